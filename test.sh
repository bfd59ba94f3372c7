#!/usr/bin/env bash
# The whole test suite, on a fresh Debian machine with Go and Node:
# installs the real EWS clients the interop suite drives when they are
# missing (Debian's python3-exchangelib, ews-javascript-api from npm), the
# CalDAV servers it syncs calendars from (Debian's radicale and xandikos), the
# shells whose completion scripts it loads (Debian's zsh and fish), the
# headless browser its console tests drive (Debian's chromium) and the
# independent iCalendar expansion its real-world corpus test compares
# calfed against (Debian's python3-icalendar and
# python3-recurring-ical-events; python3-icalendar also reads the
# VFREEBUSY our users' free/busy URL serves), then
# starts PostgreSQL on loopback for the store's tests, then runs vet, the
# unit, golden and fuzz-seed tests, the interop suite, and every benchmark
# once so none rots. Nothing is skipped here (but the real-world corpus test
# where the corpus is absent, below): CALFED_TEST_REQUIRE=all turns
# every test that would skip for want of PostgreSQL or a real client into a
# failure (internal/testenv); plain `go test ./...` skips them instead.
set -euo pipefail
cd "$(dirname "$0")"
export CALFED_TEST_REQUIRE=all

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# The shells whose completion scripts calfed completion writes (bash is
# there already).
if ! command -v zsh >/dev/null 2>&1 || ! command -v fish >/dev/null 2>&1; then
  echo "installing zsh, fish (Debian)" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq zsh fish >/dev/null
fi
if ! /usr/bin/python3 -c 'import exchangelib, icalendar, recurring_ical_events' 2>/dev/null; then
  echo "installing python3-exchangelib, python3-icalendar, python3-recurring-ical-events (Debian)" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-exchangelib python3-icalendar python3-recurring-ical-events >/dev/null
fi
# Radicale and Xandikos (Debian) are the real CalDAV servers calendars
# sync from in the interop suite (Radicale in the caldav benchmarks too);
# the tests start them themselves, on loopback.
if [ ! -x /usr/bin/radicale ] || [ ! -x /usr/bin/xandikos ]; then
  echo "installing radicale, xandikos (Debian)" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq radicale xandikos >/dev/null
fi
# The real-world calendar corpus (calendar/testdata/realworld/SOURCES.md)
# is third-party data the repository does not carry: it is kept in shared/
# beside the repository. Where it is not, its test alone is skipped, loudly.
if [ -z "${CALFED_REALWORLD_CORPUS:-}" ] && [ -d ../shared/realworld-ics ]; then
  export CALFED_REALWORLD_CORPUS="$PWD/../shared/realworld-ics"
fi
if [ -z "${CALFED_REALWORLD_CORPUS:-}" ]; then
  echo "NOTE: no real-world calendar corpus here (../shared/realworld-ics or \$CALFED_REALWORLD_CORPUS): TestRealWorldCorpus is skipped; everything else is required" >&2
  export CALFED_TEST_REQUIRE=postgres,exchangelib,ews-javascript-api,recurring-ical-events,icalendar,radicale,xandikos,zsh,fish,chromium
fi
# Headless Chromium for the console's browser tests (Debian's chromium).
if ! command -v chromium >/dev/null 2>&1; then
  echo "installing chromium (Debian)" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
if [ ! -d interop/js/node_modules/ews-javascript-api ] || [ interop/js/package-lock.json -nt interop/js/node_modules ]; then
  echo "installing ews-javascript-api (npm)" >&2
  (cd interop/js && npm ci --no-audit --no-fund --loglevel=error)
fi

# A PostgreSQL server on loopback for the store's tests (Debian's package;
# the default cluster, started if it is down, with a test role).
if [ -z "${CALFED_TEST_POSTGRES:-}" ]; then
  if ! command -v pg_lsclusters >/dev/null 2>&1; then
    echo "installing postgresql (Debian)" >&2
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  if [ -z "$(pg_lsclusters -h 2>/dev/null)" ]; then
    as_root pg_createcluster "$(ls /usr/lib/postgresql | sort -n | tail -1)" main >/dev/null
  fi
  read -r pgver pgcluster pgport pgstatus _ < <(pg_lsclusters -h | head -1)
  if [ "$pgstatus" != online ]; then
    as_root pg_ctlcluster "$pgver" "$pgcluster" start
  fi
  as_root runuser -u postgres -- psql -p "$pgport" -qc "DO \$\$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'calfed_test') THEN
      CREATE ROLE calfed_test LOGIN SUPERUSER PASSWORD 'calfed_test';
    END IF; END \$\$;" >/dev/null
  export CALFED_TEST_POSTGRES="postgres://calfed_test:calfed_test@127.0.0.1:$pgport/postgres?sslmode=disable"
fi

# Test artefacts, such as the console's screenshots, are kept here.
export CALFED_ARTEFACTS="${CALFED_ARTEFACTS:-$(mktemp -d "${TMPDIR:-/tmp}/calfed-artefacts.XXXXXX")}"
echo "test artefacts in $CALFED_ARTEFACTS" >&2

# The production build (README.md, "Running in production"): a static
# binary, and the hardened systemd unit in deploy/ verified against it
# (systemd-analyze, from Debian's systemd, installed when missing). Any
# word from the verifier, a warning included, fails the suite.
if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "installing systemd (Debian) for systemd-analyze" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd >/dev/null
fi
deploy_tmp=$(mktemp -d)
trap 'rm -rf "$deploy_tmp"' EXIT
CGO_ENABLED=0 go build -trimpath -o "$deploy_tmp/calfed" ./cmd/calfed
if ! go version -m "$deploy_tmp/calfed" | grep -q 'CGO_ENABLED=0'; then
  echo "FAIL: the calfed binary was not built with CGO_ENABLED=0" >&2; exit 1
fi
if ldd "$deploy_tmp/calfed" >/dev/null 2>&1; then
  echo "FAIL: the calfed binary is dynamically linked:" >&2; ldd "$deploy_tmp/calfed" >&2; exit 1
fi
sed "s#/usr/local/bin/calfed#$deploy_tmp/calfed#" deploy/calfed.service > "$deploy_tmp/calfed.service"
if ! verify=$(systemd-analyze verify "$deploy_tmp/calfed.service" 2>&1) || [ -n "$verify" ]; then
  echo "FAIL: systemd-analyze verify deploy/calfed.service:" >&2; echo "$verify" >&2; exit 1
fi
export CALFED_STATIC_BINARY="$deploy_tmp/calfed"   # the production walkthrough (interop) runs it

go vet ./...
CALFED_BENCH_MAILBOXES=100 go test -count=1 -run '^$' -bench . -benchtime=1x ./... >/dev/null
go test -count=1 ./...
