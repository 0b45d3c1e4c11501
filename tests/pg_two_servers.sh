#!/bin/sh
# pg_two_servers: two `maillage serve` processes on one PostgreSQL database behind nginx (round
# robin). A session opened through one server works through the other; a write through one is
# read through the other at once.
# Usage: pg_two_servers.sh PATH/TO/maillage SOURCE_DIR   (MAILLAGE_TEST_PG: a postgresql:// URL
# or a file holding one, as for the cmocka tests; scripts/test-pg.sh start writes one)
set -u
BIN=$1
T=$(mktemp -d)
chmod 755 "$T"
PIDS=""
NGINX_PID=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	[ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
	for p in $PIDS; do wait "$p" 2>/dev/null; done
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

v=${MAILLAGE_TEST_PG:-}
if [ -z "$v" ]; then
	echo "pg_two_servers: MAILLAGE_TEST_PG is not set" >&2
	exit 1
fi
case "$v" in
postgres://* | postgresql://*) BASE=$v ;;
*) BASE=$(head -n 1 "$v") ;;
esac
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [ ! -x "$NGINX" ]; then
	echo "pg_two_servers: nginx not found (Debian package nginx-light)" >&2
	exit 1
fi

# A database of our own on the test server, with the demo.
DBNAME="maillage_two_$$"
URL=$(echo "$BASE" | sed -E "s#^(postgres(ql)?://[^/]*)/[^?]*#\1/$DBNAME#")
psql -q -X "$BASE" -c "CREATE DATABASE $DBNAME" >/dev/null || exit 1
"$BIN" demo --db "$URL" >"$T/demo.log" 2>&1 || { cat "$T/demo.log"; exit 1; }

# Two servers on free ports (started from this shell, so that cleanup knows their pids).
start_server() { # NAME
	"$BIN" serve --db "$URL" --listen 127.0.0.1:0 >"$T/$1.out" 2>"$T/$1.err" &
	PIDS="$PIDS $!"
}
wait_port() { # NAME: prints the port once the server listens
	i=0
	while [ $i -lt 100 ] && ! grep -q "écoute sur" "$T/$1.out" 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	sed -n 's#.*http://127.0.0.1:\([0-9]*\)/.*#\1#p' "$T/$1.out"
}
start_server a
start_server b
PA=$(wait_port a)
PB=$(wait_port b)
if [ -z "$PA" ] || [ -z "$PB" ]; then
	echo "pg_two_servers: a server did not start" >&2
	cat "$T/a.err" "$T/b.err" >&2
	exit 1
fi

# nginx in front, round robin, telling which server answered.
mkdir -p "$T/nginx/logs"
i=0
NP=""
while [ $i -lt 20 ]; do
	port=$((30000 + ($$ * 7 + i * 13) % 20000))
	cat >"$T/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $T/nginx/nginx.pid;
error_log $T/nginx/logs/error.log;
events { worker_connections 64; }
http {
  access_log $T/nginx/logs/access.log;
  client_body_temp_path $T/nginx/body;
  proxy_temp_path $T/nginx/proxy;
  fastcgi_temp_path $T/nginx/fastcgi;
  uwsgi_temp_path $T/nginx/uwsgi;
  scgi_temp_path $T/nginx/scgi;
  upstream maillage { server 127.0.0.1:$PA; server 127.0.0.1:$PB; }
  server {
    listen 127.0.0.1:$port;
    location / {
      proxy_pass http://maillage;
      proxy_set_header Host \$host:\$server_port;
      add_header X-Upstream \$upstream_addr always;
    }
  }
}
EOF
	"$NGINX" -p "$T/nginx" -c "$T/nginx/nginx.conf" -g "daemon off;" 2>"$T/nginx/start.err" &
	NGINX_PID=$!
	sleep 0.5
	if kill -0 "$NGINX_PID" 2>/dev/null && curl -s -o /dev/null "http://127.0.0.1:$port/healthz"; then
		NP=$port
		break
	fi
	kill "$NGINX_PID" 2>/dev/null; wait "$NGINX_PID" 2>/dev/null
	NGINX_PID=""
	i=$((i + 1))
done
if [ -z "$NP" ]; then
	echo "pg_two_servers: nginx did not start" >&2
	cat "$T/nginx/start.err" "$T/nginx/logs/error.log" >&2 2>/dev/null
	exit 1
fi
P="http://127.0.0.1:$NP"
J="$T/cookies"

# GET through nginx: body in $T/body, status printed, upstream in $T/upstream.
get() {
	curl -s -b "$J" -c "$J" -D "$T/headers" -o "$T/body" -w '%{http_code}' "$P$1"
	sed -n 's/^[Xx]-[Uu]pstream: *\([^[:space:]]*\).*/\1/p' "$T/headers" >"$T/upstream"
}
csrf() { sed -n 's/.*name="_csrf" value="\([^"]*\)".*/\1/p' "$T/body" | head -n 1; }

# Log in through nginx (one of the two servers).
get /connexion >/dev/null
tok=$(csrf)
st=$(curl -s -b "$J" -c "$J" -o /dev/null -w '%{http_code}' \
	--data-urlencode "_csrf=$tok" --data-urlencode "email=admin@demo.maillage.fr" \
	--data-urlencode "password=maillage-demo" "$P/connexion")
[ "$st" = 303 ] && ok || ko "login through nginx: $st"

# The session works on both servers: every answer of /compte is the account page.
seen_a=0
seen_b=0
n=0
while [ $n -lt 8 ]; do
	st=$(get /compte)
	up=$(cat "$T/upstream")
	if [ "$st" = 200 ] && grep -q "admin@demo.maillage.fr" "$T/body"; then ok; else ko "/compte via $up: $st"; fi
	case "$up" in
	*":$PA") seen_a=1 ;;
	*":$PB") seen_b=1 ;;
	esac
	n=$((n + 1))
done
[ $seen_a = 1 ] && [ $seen_b = 1 ] && ok || ko "both servers should have answered (a=$seen_a b=$seen_b)"

# A write through one server is read through the other at once, several times.
k=0
while [ $k -lt 4 ]; do
	get /compte >/dev/null
	tok=$(csrf)
	name="Admin écrit $k $$"
	curl -s -b "$J" -c "$J" -D "$T/wh" -o /dev/null --data-urlencode "_csrf=$tok" \
		--data-urlencode "action=name" --data-urlencode "name=$name" "$P/compte" >/dev/null
	wup=$(sed -n 's/^[Xx]-[Uu]pstream: *\([^[:space:]]*\).*/\1/p' "$T/wh")
	# Read it back directly from the OTHER server, then through nginx twice (both servers).
	case "$wup" in
	*":$PA") other=$PB ;;
	*) other=$PA ;;
	esac
	curl -s -b "$J" -o "$T/direct" "http://127.0.0.1:$other/compte"
	if grep -q "$name" "$T/direct"; then ok; else ko "write via $wup not read on :$other"; fi
	for _ in 1 2; do
		get /compte >/dev/null
		if grep -q "$name" "$T/body"; then ok; else ko "write not read via $(cat "$T/upstream")"; fi
	done
	k=$((k + 1))
done

# Logging out through one server ends the session on the other.
get /compte >/dev/null
tok=$(csrf)
curl -s -b "$J" -c "$J" -o /dev/null --data-urlencode "_csrf=$tok" "$P/deconnexion"
for port in $PA $PB; do
	st=$(curl -s -b "$J" -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/compte")
	[ "$st" != 200 ] && ok || ko "session still open on :$port after logout"
done

echo "pg_two_servers: $pass passed, $fail failed"
[ "$fail" = 0 ]
