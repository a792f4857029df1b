#!/usr/bin/env bash
# Builds the real spire-server and spire-agent from SPIRE's own Go module, at the version pinned in
# interop/spire/VERSION, with the ordinary go client, into a cache folder keyed by that version:
#   .cache/spire/<version>/bin/{spire-server,spire-agent}
# A second run finds them and returns at once. Prints the bin directory on stdout; progress and
# errors (the go command's own) on stderr. Exit 1 on any failure: CI must fail, never skip.
#
# Why a throw-away module: SPIRE's go.mod has replace directives, so `go install ...@version` is
# refused; `go get -tool` inside a module of our own, then `go install`, resolves and builds it.
# Environment: MESHAUTH_SPIRE_CACHE overrides the cache root; GO overrides the go binary.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
version=$(tr -d '[:space:]' < "$here/VERSION")
cache=${MESHAUTH_SPIRE_CACHE:-$root/.cache/spire}
out="$cache/$version"
go=${GO:-go}

say() { printf 'spire-build: %s\n' "$*" >&2; }

if [ -x "$out/bin/spire-server" ] && [ -x "$out/bin/spire-agent" ] && [ -f "$out/.built" ]; then
  printf '%s\n' "$out/bin"
  exit 0
fi

if ! command -v "$go" >/dev/null 2>&1; then
  say "no Go toolchain ('$go' not on PATH): SPIRE $version is built from its Go module; install Go 1.26 or newer"
  exit 1
fi

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9 # one build at a time; a second caller waits, then finds the first one's result
if [ -x "$out/bin/spire-server" ] && [ -x "$out/bin/spire-agent" ] && [ -f "$out/.built" ]; then
  printf '%s\n' "$out/bin"
  exit 0
fi

work=$(mktemp -d)
log="$work/go.log"
trap 'rm -rf "$work"' EXIT
fail() { say "$1 failed; the go command said:"; tail -n 60 "$log" >&2; exit 1; }
started=$(date +%s)
say "building spire-server and spire-agent $version with $("$go" version | cut -d' ' -f3) (first run only; cached in $out)"
cd "$work"
"$go" mod init meshauth.dev/spire-build >>"$log" 2>&1 || fail "go mod init"
# The Go module proxy here refuses github.com/Keyfactor/ejbca-go-client-sdk@v1.1.0, which SPIRE >= 1.15.2
# requires only for its EJBCA UpstreamAuthority plugin (pkg/server/plugin/upstreamauthority/ejbca).
# v1.0.2 is served and that plugin compiles against it; meshauth never configures that plugin.
"$go" mod edit -replace github.com/Keyfactor/ejbca-go-client-sdk=github.com/Keyfactor/ejbca-go-client-sdk@v1.0.2
for cmd in spire-server spire-agent; do
  "$go" get -tool "github.com/spiffe/spire/cmd/$cmd@$version" >>"$log" 2>&1 || fail "go get -tool github.com/spiffe/spire/cmd/$cmd@$version"
done
# SPIRE's release flags (its Makefile): strip symbols, stamp the version `--version` prints.
mkdir -p "$out"
rm -rf "$out/bin.partial"
GOBIN="$out/bin.partial" "$go" install -trimpath \
  -ldflags "-s -w -X github.com/spiffe/spire/pkg/common/version.gittag=${version#v}" \
  github.com/spiffe/spire/cmd/spire-server github.com/spiffe/spire/cmd/spire-agent >>"$log" 2>&1 || fail "go install"
rm -rf "$out/bin"
mv "$out/bin.partial" "$out/bin"
{
  echo "version=$version"
  echo "go=$("$go" version)"
  echo "spire-server=$("$out/bin/spire-server" --version 2>&1)"
  echo "spire-agent=$("$out/bin/spire-agent" --version 2>&1)"
  echo "seconds=$(( $(date +%s) - started ))"
} > "$out/.built"
say "built in $(( $(date +%s) - started )) s: $(tr '\n' ' ' < "$out/.built")"
printf '%s\n' "$out/bin"
