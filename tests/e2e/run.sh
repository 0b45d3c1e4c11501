#!/bin/sh
# e2e: the browser tests, in Debian's chromium driven by playwright-core (node's test runner).
# Usage: run.sh PATH/TO/maillage SOURCE_DIR
set -eu
BIN=$1
SRC=$2
if [ ! -x /usr/bin/chromium ]; then
	echo "e2e: /usr/bin/chromium is missing: run scripts/bootstrap.sh --test" >&2
	exit 1
fi
if [ ! -d "$SRC/node_modules/playwright-core" ]; then
	echo "e2e: node_modules is missing: run 'npm ci' in $SRC" >&2
	exit 1
fi
export MAILLAGE_BIN="$BIN"
export NODE_PATH="$SRC/node_modules"
cd "$SRC"
exec node --test --test-concurrency=1 tests/e2e/
