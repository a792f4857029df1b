{{/* The release's name prefix: "meshauth" for a release named meshauth, else <release>-meshauth. */}}
{{- define "meshauth.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "meshauth.labels" -}}
app.kubernetes.io/part-of: meshauth
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "meshauth.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "meshauth.serverId" -}}
{{- .Values.authentication.mutual.spire.serverId | default (printf "spiffe://%s/spire/server" .Values.authentication.mutual.spire.trustDomain) -}}
{{- end -}}

{{- define "meshauth.nodeIds" -}}
{{- .Values.datapath.nodeIds | default (eq .Values.datapath.mode "cilium" | ternary "cilium" "source") -}}
{{- end -}}
