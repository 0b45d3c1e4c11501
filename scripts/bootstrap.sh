#!/bin/sh
# Install, idempotently and without questions, the Debian packages maillage needs to build,
# run and test. Does nothing when everything is already there.
set -eu

# Build and run time.
PKGS="build-essential cmake pkg-config
libmicrohttpd-dev libsqlite3-dev libjansson-dev libsodium-dev libpq-dev
libxlsxwriter-dev libmd4c-dev libmd4c-html0-dev libcsv-dev"
# Run time: the bilan's PDF is printed by headless Chromium (src/report.c says why), with a
# font for its text.
PKGS="$PKGS chromium fonts-dejavu-core"
# Tests only.
if [ "${1:-}" = "--test" ]; then
	# poppler-utils: pdftotext and pdftoppm check the bilan PDF (tests/test_report.c).
	PKGS="$PKGS libcmocka-dev libcurl4-openssl-dev tidy sqlite3 chromium python3-numpy python3-scipy python3-pandas poppler-utils"
	# postgresql: the harness starts a private server (initdb/pg_ctl) to run the integration
	# suite on the second backend; nginx: two servers behind one proxy, and the static baseline
	# of the benchmarks; wrk: load for the benchmarks; python3-icalendar: a real parser for our
	# .ics exports in the tests.
	PKGS="$PKGS postgresql postgresql-contrib nginx-light wrk python3-icalendar"
	# Node.js (with its npm) may come from another packaging than Debian's; take Debian's only
	# when there is none.
	command -v npm >/dev/null 2>&1 || PKGS="$PKGS nodejs npm"
fi

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "bootstrap: installing$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing </dev/null
