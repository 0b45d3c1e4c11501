#!/bin/sh
# bench/national: maillage at national scale (~1,200 plans, ~240,000 fiches, ~15 million
# measurements, ~100,000 structures on the ~35,000 real communes), on SQLite and PostgreSQL.
#
# Prints: the machine's core count; the generation speed (rows per minute); for each backend the
# plan dashboard's p50/p99 latency under load (wrk), its requests per second against nginx
# serving a saved static copy of the same page in the same run, the server's peak RSS (VmHWM)
# under that load, and the national roll-up time (command and API). Targets: p99 ≤ 20 ms
# (SQLite) / ≤ 50 ms (PostgreSQL), ≥ 50 % of nginx's requests/s, RSS ≤ 100 MB, roll-up < 1 s.
#
# Usage: bench/national/run.sh
# Environment: SEED (1), DURATION seconds per wrk run (15), LAT_CONNS connections for the latency
# run (2: one per core), LOAD_CONNS for the throughput runs (8), THREADS server threads (4),
# BUILD (build-n-rel), MAILLAGE_BIN (a binary to measure instead of building one), CACHE (/tmp/maillage-bench-national: the generated base, kept between
# runs, keyed by seed and by a hash of the generator and the migrations), PG (1 when PostgreSQL
# is installed; 0 to skip it), NPORT (nginx's port; the server takes the next one), KEEP=1
# keeps the work directory.
#
# The dashboard's content is cached by the server (src/dashboard.c) until the next write: the
# load runs measure that (every request after the first is a hit). The render path is measured
# too ("rendered each time"): the same page with a query parameter the page ignores but the
# cache keys on (indicateurs=…), unique per request, so that every request renders the page.
# Needs: cmake, a C compiler, sqlite3, curl, wrk, nginx-light, npm ci (the communes of France in
# node_modules/@etalab/decoupage-administratif), and PostgreSQL for the second half.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/bench/national
SEED=${SEED:-1}
DURATION=${DURATION:-15}
LAT_CONNS=${LAT_CONNS:-2}
LOAD_CONNS=${LOAD_CONNS:-8}
THREADS=${THREADS:-4}
BUILD=${BUILD:-$ROOT/build-n-rel}
CACHE=${CACHE:-/tmp/maillage-bench-national}
GEO=$ROOT/node_modules/@etalab/decoupage-administratif/data
WORK=$(mktemp -d)
chmod 755 "$WORK"
SPID="" NPID=""
PGDIR=""
cleanup() {
	[ -n "$SPID" ] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
	[ -n "$NPID" ] && kill "$NPID" 2>/dev/null && wait "$NPID" 2>/dev/null
	[ -n "$PGDIR" ] && "$ROOT/scripts/test-pg.sh" stop "$PGDIR" >/dev/null 2>&1
	[ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

say() { printf '%s\n' "$*"; }

say "== maillage national benchmark — $(date -u '+%Y-%m-%d %H:%M UTC')"
say "cores: $(nproc)  ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'))"

# --- build (Release), unless MAILLAGE_BIN names a binary to measure ----------------------------
if [ -n "${MAILLAGE_BIN:-}" ]; then
	BIN=$MAILLAGE_BIN
else
	cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
	cmake --build "$BUILD" -j2 --target maillage >/dev/null
	BIN=$BUILD/maillage
fi

# --- the national dataset, cached by seed and generator version ----------------------------
[ -f "$GEO/communes.json" ] || (cd "$ROOT" && npm ci >/dev/null)
KEY=$(cat "$ROOT/src/gen.c" "$ROOT"/migrations/sqlite/*.sql | sha256sum | cut -c1-12)
DB=$CACHE/national-seed$SEED-$KEY.db
mkdir -p "$CACHE"
if [ ! -f "$DB" ]; then
	say "-- generating the national dataset (seed $SEED) into $DB"
	rm -f "$DB.tmp" "$DB.tmp-wal" "$DB.tmp-shm"
	"$BIN" gen --scale national --seed "$SEED" --geo "$GEO" --db "$DB.tmp" >"$WORK/gen.out"
	mv "$DB.tmp" "$DB"
	cat "$WORK/gen.out"
	grep 'lignes par minute' "$WORK/gen.out" |
		sed 's/.*Total : \([0-9]*\) lignes en \([0-9.]*\) s, soit \([0-9]*\) lignes.*/generation: \1 rows in \2 s = \3 rows\/min (target > 1000000)/'
else
	say "-- national dataset from the cache: $DB"
fi
q() { sqlite3 "$DB" "$1"; }
say "dataset: $(q 'SELECT COUNT(*) FROM plans') plans, $(q 'SELECT COUNT(*) FROM fiches') fiches," \
	"$(q 'SELECT COUNT(*) FROM measurements') measurements, $(q 'SELECT COUNT(*) FROM actors') structures," \
	"$(q 'SELECT COUNT(*) FROM communes') communes, $(q 'SELECT COUNT(*) FROM needs') needs," \
	"$(q 'SELECT COUNT(*) FROM meetings') meetings; $(du -m "$DB" | cut -f1) MB"
# The plan: the public CTG with the median number of fiches.
PLAN=$(q "SELECT id FROM (SELECT p.id, COUNT(*) AS n FROM plans p JOIN nodes x ON x.plan_id = p.id
	JOIN fiches f ON f.node_id = x.id WHERE p.is_public = 1 AND p.kind = 'ctg' GROUP BY p.id)
	ORDER BY n, id LIMIT 1 OFFSET (SELECT COUNT(*) / 2 FROM plans WHERE is_public = 1 AND kind = 'ctg')")
PAGE=/plans/$PLAN/tableau-de-bord
say "plan $PLAN: $(q "SELECT COUNT(*) FROM nodes n JOIN fiches f ON f.node_id = n.id WHERE n.plan_id = $PLAN") fiches," \
	"$(q "SELECT COUNT(*) FROM measurements m JOIN fiche_indicators fi ON fi.id = m.fiche_indicator_id JOIN nodes n ON n.id = fi.node_id WHERE n.plan_id = $PLAN") measurements"

# --- nginx serving a saved static copy of the page -------------------------------------------
NPORT=${NPORT:-$((20000 + $$ % 10000))}
mkdir -p "$WORK/www" "$WORK/nginx"
chmod 755 "$WORK/www"
cat >"$WORK/nginx/nginx.conf" <<EOF
$( [ "$(id -u)" = 0 ] && echo "user root;" )
worker_processes auto;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/body;
  proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi;
  uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
  server {
    listen 127.0.0.1:$NPORT;
    root $WORK/www;
    location / { default_type text/html; }
  }
}
EOF
nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -g 'daemon off;' &
NPID=$!

# --- one backend ----------------------------------------------------------------------------------
# wrk_run URL CONNS OUT: prints nothing, leaves wrk's report in OUT
wrk_run() { wrk -t2 -c"$2" -d"${DURATION}s" --timeout 30s --latency "$1" >"$3" 2>&1; }
ms() { # a wrk latency ("12.34ms", "1.02s", "850.00us") in ms
	awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.1f", n }'
}
pct() { ms "$(awk -v p="$2" '$1 == p { print $2 }' "$1")"; }
rps() { awk '/Requests\/sec/ { printf "%.1f", $2 }' "$1"; }
verdict() { awk -v a="$1" -v op="$2" -v b="$3" 'BEGIN { ok = (op == "<=") ? (a <= b) : (op == "<") ? (a < b) : (a >= b); print ok ? "MET" : "MISSED" }'; }

bench_backend() { # NAME DBURL P99_TARGET_MS
	name=$1 url=$2 target=$3
	SPORT=$((NPORT + 1))
	"$BIN" serve --db "$url" --listen "127.0.0.1:$SPORT" --threads "$THREADS" --quiet >"$WORK/serve-$name.log" 2>&1 &
	SPID=$!
	ok=""
	for _ in $(seq 1 100); do
		if curl -sf -o /dev/null "http://127.0.0.1:$SPORT/"; then ok=1; break; fi
		sleep 0.1
	done
	[ -n "$ok" ] || { cat "$WORK/serve-$name.log" >&2; say "$name: the server did not start"; return 1; }
	BASE=http://127.0.0.1:$SPORT
	curl -sf -o "$WORK/www/dashboard.html" "$BASE$PAGE"
	curl -sf -o /dev/null "http://127.0.0.1:$NPORT/dashboard.html" || { say "nginx does not serve the copy"; return 1; }
	size=$(wc -c <"$WORK/www/dashboard.html")
	# warm-up, then latency at one connection per core, then throughput, then nginx
	wrk -t1 -c1 -d3s "$BASE$PAGE" >/dev/null 2>&1
	wrk_run "$BASE$PAGE" "$LAT_CONNS" "$WORK/lat-$name.txt"
	[ "$(curl -s -o /dev/null -D - "$BASE$PAGE" | tr -d '\r' | sed -n 's/^X-Maillage-Cache: //ip')" = hit ] ||
		say "(warning: the dashboard page was not served from the cache)"
	cat >"$WORK/unique.lua" <<'LUA'
local n, id = 0, 0
function setup(thread) id = id + 1; thread:set("tid", id) end
function request()
  n = n + 1
  return wrk.format("GET", wrk.path .. "?indicateurs=r" .. tostring(tid) .. "-" .. n)
end
LUA
	wrk -t2 -c"$LAT_CONNS" -d"${DURATION}s" --timeout 30s --latency -s "$WORK/unique.lua" \
		"$BASE$PAGE" >"$WORK/render-$name.txt" 2>&1
	wrk_run "$BASE$PAGE" "$LOAD_CONNS" "$WORK/load-$name.txt"
	hwm=$(awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$SPID/status")
	wrk_run "http://127.0.0.1:$NPORT/dashboard.html" "$LOAD_CONNS" "$WORK/nginx-$name.txt"
	p50=$(pct "$WORK/lat-$name.txt" 50%) p99=$(pct "$WORK/lat-$name.txt" 99%)
	rp50=$(pct "$WORK/render-$name.txt" 50%) rp99=$(pct "$WORK/render-$name.txt" 99%)
	rr=$(rps "$WORK/render-$name.txt")
	lp50=$(pct "$WORK/load-$name.txt" 50%) lp99=$(pct "$WORK/load-$name.txt" 99%)
	r=$(rps "$WORK/load-$name.txt") n=$(rps "$WORK/nginx-$name.txt")
	share=$(awk -v a="$r" -v b="$n" 'BEGIN { printf "%.1f", b ? 100 * a / b : 0 }')
	# the national roll-up: the API through the running server (3 runs, best and worst) and
	# the command (its own timing of the computation, without process start)
	# (signed in as the generated national administrator: every plan, private ones included)
	curl -s -c "$WORK/cookies" -b "$WORK/cookies" -o "$WORK/login.html" "$BASE/connexion"
	csrf=$(grep -o 'name="_csrf" value="[^"]*"' "$WORK/login.html" | head -1 | sed 's/.*value="//; s/"$//')
	curl -s -c "$WORK/cookies" -b "$WORK/cookies" -o /dev/null \
		--data-urlencode "email=admin@gen.maillage.fr" --data-urlencode "password=maillage-demo" \
		--data-urlencode "_csrf=$csrf" "$BASE/connexion"
	api=""
	for _ in 1 2 3; do
		api="$api $(curl -s -b "$WORK/cookies" -o "$WORK/rollup-$name.json" -w '%{time_total}' "$BASE/api/v1/rollup")"
	done
	api_ms=$(echo "$api" | awk '{ m = 0; for (i = 1; i <= NF; i++) if ($i > m) m = $i; printf "%.0f", m * 1000 }')
	plans=$(grep -o '"count": *[0-9]*' "$WORK/rollup-$name.json" | head -1 | grep -o '[0-9]*$')
	cli_ms=$("$BIN" rollup --db "$url" | sed -n 's/.*calculée en \([0-9]*\) ms.*/\1/p')
	kill "$SPID" && wait "$SPID" 2>/dev/null || true
	SPID=""
	say ""
	say "== $name"
	say "dashboard page ($size bytes): latency with $LAT_CONNS connections p50 $p50 ms, p99 $p99 ms (target ≤ $target ms: $(verdict "$p99" "<=" "$target"))"
	say "  with $LOAD_CONNS connections: p50 $lp50 ms, p99 $lp99 ms, $r requests/s"
	say "  rendered each time (cache defeated), $LAT_CONNS connections: p50 $rp50 ms, p99 $rp99 ms, $rr requests/s"
	say "nginx, same page saved, $LOAD_CONNS connections: $n requests/s; maillage = $share % of nginx (target ≥ 50 %: $(verdict "$share" ">=" 50))"
	say "server peak RSS under load (VmHWM): $hwm MB (target ≤ 100 MB: $(verdict "$hwm" "<=" 100))"
	say "national roll-up of $plans plans: API $api_ms ms (worst of 3, wall), command $cli_ms ms (computation) (target < 1000 ms: $(verdict "$api_ms" "<" 1000))"
}

bench_backend sqlite "$DB" 20

# --- PostgreSQL: a private cluster, the same dataset copied with `maillage db copy` -----------
if [ "${PG:-1}" = 1 ] && ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
	PGDIR=$WORK/pg
	"$ROOT/scripts/test-pg.sh" start "$PGDIR" >/dev/null
	PGBASE=$(cat "$PGDIR/url")
	PGURL=$(echo "$PGBASE" | sed 's#/[^/]*$#/national#')
	psql -q "$PGBASE" -c "CREATE DATABASE national" >/dev/null
	say ""
	say "-- copying the dataset to PostgreSQL (maillage db copy, verified by checksums)"
	start=$(date +%s)
	"$BIN" db copy --from "$DB" --to "$PGURL" >"$WORK/copy.out" 2>"$WORK/copy.err" || { cat "$WORK/copy.err"; exit 1; }
	tail -1 "$WORK/copy.out" | sed 's/^/  /'
	say "  copy: $(( $(date +%s) - start )) s"
	psql -q "$PGURL" -c "ANALYZE" >/dev/null
	bench_backend postgresql "$PGURL" 50
fi
