#!/usr/bin/env bash
# The whole test suite, on a fresh Debian machine with Go and Node:
# installs the real EWS clients the interop suite drives when they are
# missing (Debian's python3-exchangelib, ews-javascript-api from npm), then
# runs vet, the unit, golden and fuzz-seed tests, the interop suite, and
# every benchmark once so none rots.
set -euo pipefail
cd "$(dirname "$0")"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! /usr/bin/python3 -c 'import exchangelib' 2>/dev/null; then
  echo "installing python3-exchangelib (Debian)" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-exchangelib >/dev/null
fi
if [ ! -d interop/js/node_modules/ews-javascript-api ] || [ interop/js/package-lock.json -nt interop/js/node_modules ]; then
  echo "installing ews-javascript-api (npm)" >&2
  (cd interop/js && npm ci --no-audit --no-fund --loglevel=error)
fi

go vet ./...
go test -count=1 -run '^$' -bench . -benchtime=1x ./... >/dev/null
go test -count=1 ./...
