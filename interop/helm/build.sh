#!/usr/bin/env bash
# Builds the real helm from Helm's own Go module, at the version pinned in interop/helm/VERSION, with the
# ordinary go client, into a cache folder keyed by that version:
#   .cache/helm/<version>/bin/helm
# A second run finds it and returns at once. Prints the bin directory on stdout; progress and errors (the
# go command's own) on stderr. Exit 1 on any failure: CI must fail, never skip.
# Environment: MESHAUTH_HELM_CACHE overrides the cache root; GO overrides the go binary.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
version=$(tr -d '[:space:]' < "$here/VERSION")
cache=${MESHAUTH_HELM_CACHE:-$root/.cache/helm}
out="$cache/$version"
go=${GO:-go}

say() { printf 'helm-build: %s\n' "$*" >&2; }

built() { [ -x "$out/bin/helm" ] && [ -f "$out/.built" ]; }
if built; then
  printf '%s\n' "$out/bin"
  exit 0
fi
if ! command -v "$go" >/dev/null 2>&1; then
  say "no Go toolchain ('$go' not on PATH): helm $version is built from its Go module; install Go 1.26 or newer"
  exit 1
fi

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9 # one build at a time; a second caller waits, then finds the first one's result
if built; then
  printf '%s\n' "$out/bin"
  exit 0
fi

work=$(mktemp -d)
log="$work/go.log"
trap 'rm -rf "$work"' EXIT
fail() { say "$1 failed; the go command said:"; tail -n 60 "$log" >&2; exit 1; }
started=$(date +%s)
say "building helm $version with $("$go" version | cut -d' ' -f3) (first run only; cached in $out)"
cd "$work"
"$go" mod init meshauth.dev/helm-build >>"$log" 2>&1 || fail "go mod init"
"$go" get -tool "helm.sh/helm/v4/cmd/helm@$version" >>"$log" 2>&1 || fail "go get -tool helm.sh/helm/v4/cmd/helm@$version"
mkdir -p "$out"
rm -rf "$out/bin.partial"
# Helm's release flags (its Makefile): strip symbols, stamp the version `helm version` prints.
GOBIN="$out/bin.partial" CGO_ENABLED=0 "$go" install -trimpath \
  -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$version" \
  helm.sh/helm/v4/cmd/helm >>"$log" 2>&1 || fail "go install"
rm -rf "$out/bin"
mv "$out/bin.partial" "$out/bin"
{
  echo "version=$version"
  echo "go=$("$go" version)"
  echo "helm=$("$out/bin/helm" version --short 2>&1)"
  echo "seconds=$(( $(date +%s) - started ))"
} > "$out/.built"
say "built in $(( $(date +%s) - started )) s: $(tr '\n' ' ' < "$out/.built")"
printf '%s\n' "$out/bin"
