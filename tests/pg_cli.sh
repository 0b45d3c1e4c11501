#!/bin/sh
# pg_cli: the command line on PostgreSQL — init, demo (refused on a database in use without
# --force), accounts, MAILLAGE_DB, and the server answering from PostgreSQL; no password shown.
# Usage: pg_cli.sh PATH/TO/maillage SOURCE_DIR   (MAILLAGE_TEST_PG as for pg_two_servers.sh)
set -u
BIN=$1
T=$(mktemp -d)
PID=""
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	if [ -n "${BASE:-}" ] && [ -n "${DBNAME:-}" ]; then
		psql -q -X "$BASE" -c "DROP DATABASE IF EXISTS $DBNAME WITH (FORCE)" >/dev/null 2>&1
	fi
	rm -rf "$T"
}
trap cleanup EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*"; }
expect() {
	want=$1; what=$2; shift 3
	"$@" >"$T/out" 2>"$T/err" </dev/null
	got=$?
	if [ "$got" = "$want" ]; then ok; else ko "$what: exit $got, expected $want"; cat "$T/err"; fi
}
contains() { # FILE TEXT DESCRIPTION
	if grep -qF -- "$2" "$1"; then ok; else ko "$3: '$2' not in $1"; sed -n 1,20p "$1"; fi
}

v=${MAILLAGE_TEST_PG:-}
[ -n "$v" ] || { echo "pg_cli: MAILLAGE_TEST_PG is not set" >&2; exit 1; }
case "$v" in
postgres://* | postgresql://*) BASE=$v ;;
*) BASE=$(head -n 1 "$v") ;;
esac
DBNAME="maillage_cli_$$"
URL=$(echo "$BASE" | sed -E "s#^(postgres(ql)?://[^/]*)/[^?]*#\1/$DBNAME#")
# The same URL with a password (trust authentication ignores it): it must never be printed.
SECRET_URL=$(echo "$URL" | sed -E "s#://([^@/]*)@#://\1:motdepasse-tres-secret@#")
psql -q -X "$BASE" -c "CREATE DATABASE $DBNAME" >/dev/null || exit 1

# Several processes migrating a new database at once (servers starting together): all succeed.
for i in 1 2 3; do
	"$BIN" init --db "$URL" >"$T/race$i" 2>&1 &
done
wait
for i in 1 2 3; do contains "$T/race$i" "Base prête" "concurrent init $i"; done
expect 0 "init" -- "$BIN" init --db "$SECRET_URL"
contains "$T/out" "Base prête" "init output"
if grep -q "motdepasse-tres-secret" "$T/out" "$T/err"; then ko "init shows the password"; else ok; fi
expect 0 "init again" -- "$BIN" init --db "$URL"
# As with a SQLite file that exists: the demo replaces a database only on --force.
expect 1 "demo on a database in use" -- "$BIN" demo --db "$SECRET_URL"
contains "$T/err" "n'est pas vide" "demo refusal"
if grep -q "motdepasse-tres-secret" "$T/out" "$T/err"; then ko "demo shows the password"; else ok; fi
expect 0 "demo --force" -- "$BIN" demo --db "$URL" --force
contains "$T/out" "Démonstration chargée" "demo output"
expect 0 "demo --force again" -- "$BIN" demo --db "$URL" --force
plans=$(psql -tAX "$URL" -c "SELECT COUNT(*) FROM plans")
[ "$plans" -ge 3 ] && ok || ko "demo --force: $plans plans"
users=$(psql -tAX "$URL" -c "SELECT COUNT(*) FROM users")
[ "$users" = 5 ] && ok || ko "demo --force replaced the data: $users users"

echo "un-mot-de-passe-assez-long" >"$T/pw"
"$BIN" user add marie@example.org --name "Marie Curie" --role coordinator --password-stdin \
	--db "$URL" <"$T/pw" >"$T/out" 2>"$T/err" && ok || { ko "user add"; cat "$T/err"; }
"$BIN" user add marie@example.org --name "Marie" --role pilot --password-stdin \
	--db "$URL" <"$T/pw" >"$T/out" 2>"$T/err" && ko "duplicate user accepted" || ok
contains "$T/err" "existe déjà" "duplicate user message"
expect 0 "user list via MAILLAGE_DB" -- env MAILLAGE_DB="$URL" "$BIN" user list
contains "$T/out" "marie@example.org" "user list"

# The server on PostgreSQL.
"$BIN" serve --db "$SECRET_URL" --listen 127.0.0.1:0 >"$T/serve.out" 2>"$T/serve.err" &
PID=$!
i=0
while [ $i -lt 100 ] && ! grep -q "écoute sur" "$T/serve.out" 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
PORT=$(sed -n 's#.*http://127.0.0.1:\([0-9]*\)/.*#\1#p' "$T/serve.out")
[ -n "$PORT" ] && ok || { ko "serve did not start"; cat "$T/serve.err"; }
st=$(curl -s -o "$T/h" -w '%{http_code}' "http://127.0.0.1:$PORT/healthz")
[ "$st" = 200 ] && ok || ko "healthz: $st"
contains "$T/h" "ok schema=" "healthz body"
st=$(curl -s -o "$T/home" -w '%{http_code}' "http://127.0.0.1:$PORT/")
[ "$st" = 200 ] && ok || ko "home: $st"
contains "$T/home" "Crestois" "home lists the demo plans"
st=$(curl -s -o "$T/api" -w '%{http_code}' "http://127.0.0.1:$PORT/api/v1/search?q=enfance")
[ "$st" = 200 ] && ok || ko "search API: $st"
contains "$T/api" '"items"' "search API body"
kill "$PID"
wait "$PID"
rc=$?
PID=""
[ "$rc" = 0 ] && ok || ko "serve stopped with $rc"
if grep -q "motdepasse-tres-secret" "$T/serve.out" "$T/serve.err"; then ko "the log shows the password"; else ok; fi

echo "pg_cli: $pass passed, $fail failed"
[ "$fail" = 0 ]
