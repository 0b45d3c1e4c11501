#!/bin/sh
# test-pg.sh — a private PostgreSQL server for the tests.
#
#   scripts/test-pg.sh start DIR   initdb a cluster in a temporary directory, start it on a free
#                                  loopback port (trust authentication, loopback and a private
#                                  socket directory only) and write its base URL to DIR/url
#                                  (postgresql://maillage@127.0.0.1:PORT/postgres)
#   scripts/test-pg.sh stop DIR    stop it (immediately) and remove it and DIR
#
# PostgreSQL refuses to run as root: when run as root, the server runs as `nobody` (uid 65534),
# its files in a directory of its own under $TMPDIR (so that the build directory's permissions
# do not matter). Debian's binaries are in /usr/lib/postgresql/<version>/bin (PG_BIN overrides).
set -eu

cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
	echo "usage: $0 start|stop DIR" >&2
	exit 2
fi

if [ -z "${PG_BIN:-}" ]; then
	for v in 15 16 17 14 13; do
		if [ -x "/usr/lib/postgresql/$v/bin/pg_ctl" ]; then
			PG_BIN=/usr/lib/postgresql/$v/bin
			break
		fi
	done
fi
if [ -z "${PG_BIN:-}" ] || [ ! -x "$PG_BIN/pg_ctl" ]; then
	echo "test-pg: PostgreSQL not found (install the Debian package postgresql)" >&2
	exit 1
fi

# Run a command as the server's account.
as_pg() {
	if [ "$(id -u)" = 0 ]; then
		setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"
	else
		"$@"
	fi
}

case "$cmd" in
start)
	if [ -f "$dir/cluster" ]; then
		"$0" stop "$dir" || true
	fi
	rm -rf "$dir"
	mkdir -p "$dir"
	pg=$(mktemp -d "${TMPDIR:-/tmp}/maillage-pg.XXXXXX")
	echo "$pg" >"$dir/cluster"
	if [ "$(id -u)" = 0 ]; then
		chown 65534:65534 "$pg"
	fi
	as_pg "$PG_BIN/initdb" -D "$pg/data" -U maillage --auth=trust --encoding=UTF8 \
		--locale=C --no-sync >"$dir/initdb.log" 2>&1 || {
		cat "$dir/initdb.log" >&2
		exit 1
	}
	# A free loopback port: try a few, the server itself tells whether it could bind.
	base=$(( 20000 + $$ % 20000 ))
	i=0
	while [ $i -lt 20 ]; do
		port=$(( base + i * 7 ))
		if as_pg "$PG_BIN/pg_ctl" -D "$pg/data" -l "$pg/server.log" -w -t 30 \
			-o "-k $pg -p $port -c listen_addresses=127.0.0.1 -c fsync=off \
-c synchronous_commit=off -c full_page_writes=off -c max_connections=300 \
-c shared_buffers=64MB" start >/dev/null 2>&1; then
			echo "postgresql://maillage@127.0.0.1:$port/postgres" >"$dir/url"
			echo "test-pg: PostgreSQL on 127.0.0.1:$port ($pg)"
			exit 0
		fi
		i=$((i + 1))
	done
	cat "$pg/server.log" >&2 2>/dev/null || true
	echo "test-pg: could not start PostgreSQL" >&2
	exit 1
	;;
stop)
	pg=$(cat "$dir/cluster" 2>/dev/null || true)
	if [ -n "$pg" ] && [ -f "$pg/data/postmaster.pid" ]; then
		as_pg "$PG_BIN/pg_ctl" -D "$pg/data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	case "$pg" in
	*/maillage-pg.*) rm -rf "$pg" ;;
	esac
	rm -rf "$dir"
	;;
*)
	echo "usage: $0 start|stop DIR" >&2
	exit 2
	;;
esac
