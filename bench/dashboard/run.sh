#!/bin/sh
# bench/dashboard: the dashboard of a 200-fiche plan with 5,000 measurements (targets: p99 under
# 20 ms) and the PDF of its bilan (target: under 5 s), on the real server over loopback.
# Usage: bench/dashboard/run.sh [PATH/TO/maillage] [REQUESTS]
# Build without sanitizers for figures that mean something:
#   cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release && cmake --build build-rel -j2
set -eu
BIN=${1:-build/maillage}
N=${2:-2000}
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=$(mktemp -d)
PID=""
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

"$BIN" demo --db "$DIR/bench.db" >/dev/null
PLAN=$(sqlite3 "$DIR/bench.db" <"$HERE/generate.sql" | tail -1)
echo "plan $PLAN: $(sqlite3 "$DIR/bench.db" "SELECT COUNT(*) FROM fiches f JOIN nodes n ON n.id = f.node_id WHERE n.plan_id = $PLAN") fiches," \
	"$(sqlite3 "$DIR/bench.db" "SELECT COUNT(*) FROM measurements m JOIN fiche_indicators fi ON fi.id = m.fiche_indicator_id JOIN nodes n ON n.id = fi.node_id WHERE n.plan_id = $PLAN") measurements"

"$BIN" serve --db "$DIR/bench.db" --listen 127.0.0.1:0 --quiet >"$DIR/serve.log" 2>&1 &
PID=$!
URL=""
for _ in $(seq 1 100); do
	URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$DIR/serve.log" 2>/dev/null || true)
	[ -n "$URL" ] && break
	sleep 0.1
done
[ -n "$URL" ] || { echo "the server did not start" >&2; exit 1; }

export NODE_PATH="${NODE_PATH:-}"
node "$HERE/latency.mjs" "$URL" "/plans/$PLAN/tableau-de-bord" "$N"
node "$HERE/latency.mjs" "$URL" "/plans/$PLAN/tableau-de-bord" "$N" admin@demo.maillage.fr maillage-demo
node "$HERE/latency.mjs" "$URL" "/api/v1/plans/$PLAN/dashboard" "$N"
node "$HERE/latency.mjs" "$URL" "/public/plans/$PLAN" "$N"

# The bilan PDF: three runs through the server, as a coordinator would ask for it.
for i in 1 2 3; do
	# a fresh login each time: the time is the renderer's, not the session's
	node -e '
const http = require("node:http");
const [base, path] = process.argv.slice(1);
const u = new URL(base);
let cookie = "";
function req(method, p, body, headers = {}) { return new Promise((res, rej) => {
  const r = http.request({ host: u.hostname, port: u.port, path: p, method, headers: { cookie, ...headers } }, (x) => {
    const c = []; x.on("data", (d) => c.push(d)); x.on("end", () => {
      for (const s of x.headers["set-cookie"] || []) cookie = (cookie ? cookie + "; " : "") + s.split(";")[0];
      res({ status: x.statusCode, body: Buffer.concat(c) }); }); });
  r.on("error", rej); if (body) r.write(body); r.end(); }); }
(async () => {
  const p = await req("GET", "/connexion");
  const csrf = /name="_csrf" value="([^"]+)"/.exec(p.body.toString())[1];
  await req("POST", "/connexion", new URLSearchParams({ email: "admin@demo.maillage.fr", password: "maillage-demo", _csrf: csrf }).toString(), { "content-type": "application/x-www-form-urlencoded" });
  const t0 = process.hrtime.bigint();
  const r = await req("GET", path);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 200 || r.body.subarray(0, 4).toString() !== "%PDF") throw new Error("status " + r.status);
  console.log(`${path} : ${s.toFixed(2)} s, ${(r.body.length / 1024).toFixed(0)} Kio`);
})();
' "$URL" "/plans/$PLAN/bilan/2024.pdf"
done
