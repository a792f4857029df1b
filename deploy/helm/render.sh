#!/usr/bin/env bash
# Renders the plain manifests from the chart, so the chart is their one source:
#   deploy/cilium/meshauth.yaml = helm template meshauth deploy/helm/meshauth --namespace meshauth
# Run it after changing the chart; HelmChartTest fails while the committed file differs from the chart.
# helm comes from interop/helm/build.sh (built from Helm's Go module, cached by version).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
helm="${MESHAUTH_HELM_BIN:-$("$root/interop/helm/build.sh")}/helm"
out="$root/deploy/cilium/meshauth.yaml"
{
  echo "# GENERATED from deploy/helm/meshauth by deploy/helm/render.sh: edit the chart, then run that script."
  echo "# The meshauth agent (DaemonSet), operator (Deployment, PodDisruptionBudget), their RBAC and the"
  echo "# agent's config, with the chart's default values, for kubectl apply -n meshauth."
  "$helm" template meshauth "$root/deploy/helm/meshauth" --namespace meshauth
} > "$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out"
