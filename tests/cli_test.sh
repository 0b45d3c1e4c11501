#!/bin/sh
# cli_test: the command line as an administrator uses it — every command, its errors, and the
# server it starts (pages validated as HTML, clean shutdown, no personal data in the log).
# Usage: cli_test.sh PATH/TO/maillage SOURCE_DIR
set -u
BIN=$1
SRC=$2
T=$(mktemp -d)
PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$T"' EXIT
pass=0
fail=0

ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*"; }
# expect STATUS DESCRIPTION -- command...: checks the exit status; output in $T/out, $T/err
expect() {
	want=$1; what=$2; shift 3
	"$@" >"$T/out" 2>"$T/err" </dev/null
	got=$?
	if [ "$got" = "$want" ]; then ok; else ko "$what: exit $got, expected $want"; cat "$T/err"; fi
}
contains() { # FILE TEXT DESCRIPTION
	if grep -qF -- "$2" "$1"; then ok; else ko "$3: '$2' not in $1"; sed -n 1,20p "$1"; fi
}

# --- help and usage errors
expect 2 "no command" -- "$BIN"
contains "$T/err" "Commandes" "usage on stderr"
expect 0 "--help" -- "$BIN" --help
contains "$T/out" "serve" "help lists serve"
expect 0 "help user add" -- "$BIN" help user add
contains "$T/out" "--password-stdin" "help of user add"
expect 0 "serve --help" -- "$BIN" serve --help
contains "$T/out" "--listen" "serve help"
expect 2 "unknown command" -- "$BIN" frobnicate
contains "$T/err" "commande inconnue" "unknown command message"
expect 2 "unknown flag" -- "$BIN" init --db "$T/x.db" --frob
contains "$T/err" "option inconnue « --frob »" "unknown flag message"
expect 2 "missing --db" -- env -u MAILLAGE_DB "$BIN" init
contains "$T/err" "MAILLAGE_DB" "missing db message"
expect 2 "flag without value" -- "$BIN" init --db
expect 2 "extra argument" -- "$BIN" init --db "$T/x.db" extra
expect 1 "postgresql unreachable" -- "$BIN" init --db postgresql://u:motdepasse-secret@127.0.0.1:1/x
contains "$T/err" "impossible de se connecter à PostgreSQL" "postgresql message"
if grep -q "motdepasse-secret" "$T/err"; then ko "postgresql message shows the password"; else ok; fi
expect 1 "postgresql via env" -- env MAILLAGE_DB=postgres://u@127.0.0.1:1/x "$BIN" user list
contains "$T/err" "impossible de se connecter à PostgreSQL" "postgresql via env message"

# --- init, demo
expect 0 "init" -- "$BIN" init --db "$T/empty.db"
contains "$T/out" "schéma version" "init output"
expect 0 "demo" -- "$BIN" demo --db "$T/demo.db"
contains "$T/out" "4 plans" "demo output"
contains "$T/out" "admin@demo.maillage.fr" "demo prints the admin login"
before=$(cksum <"$T/demo.db")
expect 1 "demo refuses to overwrite" -- "$BIN" demo --db "$T/demo.db"
contains "$T/err" "--force" "demo overwrite message"
[ "$(cksum <"$T/demo.db")" = "$before" ] && ok || ko "demo without --force changed the file"
expect 0 "demo --force" -- "$BIN" demo --db "$T/demo.db" --force

# --- users
echo "un-mot-de-passe-solide" >"$T/pw"
"$BIN" user add marie@example.org --name "Marie Curie" --role coordinator --password-stdin \
	--db "$T/demo.db" <"$T/pw" >"$T/out" 2>"$T/err" && ok || ko "user add"
contains "$T/out" "créé" "user add output"
"$BIN" user add marie@example.org --name "Marie" --role pilot --password-stdin \
	--db "$T/demo.db" <"$T/pw" >"$T/out" 2>"$T/err" && ko "duplicate user accepted" || ok
contains "$T/err" "existe déjà" "duplicate message"
echo "court" | "$BIN" user add p@example.org --name P --role pilot --password-stdin \
	--db "$T/demo.db" >"$T/out" 2>"$T/err" && ko "short password accepted" || ok
contains "$T/err" "10 caractères" "short password message"
"$BIN" user add q@example.org --name Q --role dieu --password-stdin --db "$T/demo.db" \
	<"$T/pw" >"$T/out" 2>"$T/err" && ko "bad role accepted" || ok
contains "$T/err" "Rôle inconnu" "bad role message"
"$BIN" user add pas-une-adresse --name Q --role pilot --password-stdin --db "$T/demo.db" \
	<"$T/pw" >"$T/out" 2>"$T/err" && ko "bad email accepted" || ok
expect 2 "user add without --password-stdin" -- "$BIN" user add z@example.org --name Z --role pilot --db "$T/demo.db"
MAILLAGE_DB="$T/demo.db" "$BIN" user list >"$T/out" 2>"$T/err" && ok || ko "user list via MAILLAGE_DB"
contains "$T/out" "marie@example.org" "user list shows the new account"
grep -q "argon2" "$T/out" && ko "user list shows a hash" || ok
"$BIN" user add bob@example.org --name "Bob" --role reader --password-stdin \
	--db "$T/demo.db" <"$T/pw" >"$T/out" 2>"$T/err" && ok || ko "user add bob"
expect 0 "user disable" -- "$BIN" user disable bob@example.org --db "$T/demo.db"
expect 0 "user list after disable" -- "$BIN" user list --db "$T/demo.db"
grep "bob@example.org" "$T/out" | grep -q "désactivé" && ok || ko "bob not shown disabled"
expect 1 "disable unknown" -- "$BIN" user disable personne@example.org --db "$T/demo.db"
contains "$T/err" "Aucun compte" "disable unknown message"

# --- import cog
expect 0 "import cog" -- "$BIN" import cog "$SRC/data/geo" --db "$T/empty.db"
contains "$T/out" "697 communes" "import counts"
mkdir -p "$T/broken"
cp "$SRC/data/geo/"*.json "$T/broken/"
printf '[{"code":"26","nom":"Drôme"},\n {"code": }]\n' >"$T/broken/departements.json"
expect 0 "init other" -- "$BIN" init --db "$T/other.db"
expect 1 "import cog broken" -- "$BIN" import cog "$T/broken" --db "$T/other.db"
contains "$T/err" "departements.json, ligne 2, colonne" "broken import names line and column"
n=$(sqlite3 "$T/other.db" "select count(*) from communes")
[ "$n" = "0" ] && ok || ko "broken import stored $n communes"
expect 1 "import cog missing dir" -- "$BIN" import cog "$T/nope" --db "$T/other.db"
expect 0 "routes" -- "$BIN" routes
contains "$T/out" "/api/v1/plans" "routes lists the API"

# --- serve: pages, HTML validity, shutdown, log
"$BIN" serve --db "$T/demo.db" --listen 127.0.0.1:0 >"$T/serve.out" 2>"$T/serve.log" &
PID=$!
port=""
for _ in $(seq 1 100); do
	port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$T/serve.out")
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] && ok || ko "serve did not print its URL"
U="http://127.0.0.1:$port"
for p in / /plans/1 /plans/2 /plans/3 /connexion /a-propos /territoire /acteurs /nulle-part; do
	curl -s "$U$p" >"$T/page.html"
	# tidy exits 1 on warnings (it predates aria-current), 2 on errors.
	tidy -q -e --show-warnings no "$T/page.html" >"$T/tidy.out" 2>&1
	if [ $? -lt 2 ]; then ok; else
		ko "tidy errors on $p"; cat "$T/tidy.out"
	fi
done
code=$(curl -s -o /dev/null -w '%{http_code}' "$U/healthz")
[ "$code" = 200 ] && ok || ko "healthz $code"
# A login attempt: its e-mail must not reach the log.
curl -s -c "$T/jar" "$U/connexion" >"$T/login.html"
tok=$(sed -n 's/.*name="_csrf" value="\([0-9a-f]*\)".*/\1/p' "$T/login.html" | head -1)
code=$(curl -s -b "$T/jar" -o /dev/null -w '%{http_code}' \
	--data "_csrf=$tok&email=marie%40example.org&password=un-mot-de-passe-solide" "$U/connexion")
[ "$code" = 303 ] && ok || ko "login via curl: $code"
# The log line is written once the response is sent: give it a moment.
for _ in $(seq 1 50); do grep -qF "POST /connexion 303" "$T/serve.log" && break; sleep 0.1; done
contains "$T/serve.log" "POST /connexion 303" "request log line"
grep -q "marie" "$T/serve.log" && ko "personal data in the log" || ok
grep -q "mot-de-passe" "$T/serve.log" && ko "password in the log" || ok
# Secrets in paths (calendar feeds, invitations) are logged as their route pattern.
curl -s -o /dev/null "$U/calendrier/secret-jeton-0123456789.ics"
for _ in $(seq 1 50); do grep -qF "GET /calendrier/{token}" "$T/serve.log" && break; sleep 0.1; done
contains "$T/serve.log" "GET /calendrier/{token}" "calendar feed logged by pattern"
grep -q "secret-jeton" "$T/serve.log" && ko "calendar token in the log" || ok
expect 1 "serve on a busy port" -- "$BIN" serve --db "$T/demo.db" --listen "127.0.0.1:$port"
contains "$T/err" "impossible d'écouter" "busy port message"
expect 1 "serve bad listen" -- "$BIN" serve --db "$T/demo.db" --listen "nulle-part"
kill -TERM "$PID"
for _ in $(seq 1 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$PID" 2>/dev/null; then ko "serve did not stop on SIGTERM"; else
	wait "$PID"; rc=$?
	[ "$rc" = 0 ] && ok || ko "serve exit status $rc after SIGTERM"
fi
PID=""
expect 2 "serve bad threads" -- "$BIN" serve --db "$T/demo.db" --threads 0

# --- import and export of plans
FX="$SRC/tests/fixtures/plan_io"
plans() { sqlite3 "$T/demo.db" "select count(*) from plans"; }
nodes() { sqlite3 "$T/demo.db" "select count(*) from nodes"; }
expect 0 "help import plan" -- "$BIN" help import plan
contains "$T/out" "--dry-run" "import plan help"
expect 2 "import plan unknown flag" -- "$BIN" import plan "$FX/tilleuls.csv" --db "$T/demo.db" --frob
contains "$T/err" "option inconnue « --frob »" "import plan unknown flag message"
expect 2 "import plan bad format" -- "$BIN" import plan "$FX/tilleuls.csv" --db "$T/demo.db" --format pdf
p0=$(plans); n0=$(nodes)
expect 0 "import plan dry-run" -- "$BIN" import plan "$FX/tilleuls.csv" --db "$T/demo.db" --dry-run
contains "$T/out" "Simulation : rien n'a été enregistré" "dry-run summary"
contains "$T/out" "1.1.1 Café des habitants le samedi matin [fiche-action]" "dry-run numbers"
[ "$(plans)" = "$p0" ] && [ "$(nodes)" = "$n0" ] && ok || ko "dry-run stored something"
expect 0 "import plan (Markdown)" -- "$BIN" import plan "$FX/tilleuls.md" --db "$T/demo.db"
contains "$T/out" "18 éléments d'arborescence, dont 9 fiches-actions" "import summary"
id=$(sed -n 's/^Plan n° \([0-9]*\) créé\.$/\1/p' "$T/out")
[ -n "$id" ] && [ "$(plans)" = "$((p0 + 1))" ] && ok || ko "import plan: no new plan"
expect 0 "export plan json -o" -- "$BIN" export plan "$id" --format json -o "$T/plan.json" --db "$T/demo.db"
contains "$T/plan.json" '"tag_slugs"' "json export"
expect 0 "re-import the json export" -- "$BIN" import plan "$T/plan.json" --db "$T/demo.db"
id2=$(sed -n 's/^Plan n° \([0-9]*\) créé\.$/\1/p' "$T/out")
"$BIN" export plan "$id" --format csv --db "$T/demo.db" >"$T/a.csv" 2>"$T/err" && ok || ko "export csv"
"$BIN" export plan "$id2" --format csv --db "$T/demo.db" >"$T/b.csv" 2>"$T/err" && ok || ko "export csv 2"
cmp -s "$T/a.csv" "$T/b.csv" && ok || ko "json export re-imports to the same plan"
expect 0 "re-import the csv export" -- "$BIN" import plan "$T/a.csv" --db "$T/demo.db"
expect 0 "export plan xlsx" -- "$BIN" export plan "$id" -o "$T/plan.xlsx" --db "$T/demo.db"
[ "$(head -c 2 "$T/plan.xlsx")" = "PK" ] && ok || ko "xlsx export is not a zip"
expect 2 "export plan bad id" -- "$BIN" export plan abc --format csv --db "$T/demo.db"
expect 2 "export plan no format" -- "$BIN" export plan "$id" --db "$T/demo.db"
expect 1 "export missing plan" -- "$BIN" export plan 999999 --format json --db "$T/demo.db"
contains "$T/err" "n'existe pas" "missing plan message"
p1=$(plans); n1=$(nodes)
expect 1 "import broken file" -- "$BIN" import plan "$FX/broken_level_jump.csv" --db "$T/demo.db"
contains "$T/err" "rien n'a été enregistré" "broken file: nothing stored"
contains "$T/err" "Ligne 6, colonne 1 : saut de niveau" "broken file: line named"
expect 1 "import invalid UTF-8" -- "$BIN" import plan "$FX/broken_utf8.csv" --db "$T/demo.db"
contains "$T/err" "Ligne 4, colonne 9 : octet 0xFF" "invalid UTF-8: line and column"
expect 1 "import duplicate number" -- "$BIN" import plan "$FX/broken_duplicate_number.csv" --db "$T/demo.db"
contains "$T/err" "Ligne 6" "duplicate number: line named"
[ "$(plans)" = "$p1" ] && [ "$(nodes)" = "$n1" ] && ok || ko "a refused import stored something"

# --- access: the 2SFCA accessibility of the communes (src/access_cli.c)
expect 0 "access EAJE 0-2" -- "$BIN" access --service EAJE --band 0-2 --max-minutes 20 -o "$T/access.csv" --db "$T/demo.db"
contains "$T/access.csv" "code;nom;population_tranche;accessibilite_pour_100;offres_accessibles;minutes_offre_la_plus_proche;non_couverte;position_estimee" "access header"
contains "$T/access.csv" "26108;Crest;" "access: a row for Crest"
[ "$(grep -c '^[0-9AB]\{5\};' "$T/access.csv")" = "$(sqlite3 "$T/demo.db" 'SELECT COUNT(*) FROM communes')" ] && ok || ko "access: one row per commune"
contains "$T/err" "non couvertes" "access summary on stderr"
expect 0 "access to stdout, step decay" -- "$BIN" access --service ALSH --band 3-5 --max-minutes 30 --decay step --db "$T/demo.db"
contains "$T/out" "26108;Crest;" "access on stdout"
expect 0 "access -o xlsx" -- "$BIN" access --service EAJE --band 0-2 --max-minutes 20 -o "$T/access.xlsx" --db "$T/demo.db"
[ "$(head -c 2 "$T/access.xlsx")" = "PK" ] && ok || ko "access xlsx is not a zip"
expect 2 "access without --service" -- "$BIN" access --band 0-2 --max-minutes 20 --db "$T/demo.db"
contains "$T/err" "--service" "access: missing service message"
expect 2 "access bad minutes" -- "$BIN" access --service EAJE --band 0-2 --max-minutes vingt --db "$T/demo.db"
expect 2 "access bad decay" -- "$BIN" access --service EAJE --band 0-2 --max-minutes 20 --decay cubic --db "$T/demo.db"
expect 1 "access unknown service" -- "$BIN" access --service CRECHE --band 0-2 --max-minutes 20 --db "$T/demo.db"
contains "$T/err" "type de service inconnu" "access: unknown service message"
expect 1 "access unknown band" -- "$BIN" access --service EAJE --band 0-4 --max-minutes 20 --db "$T/demo.db"
contains "$T/err" "tranche d'âge inconnue" "access: unknown band message"
expect 1 "access unreadable matrix" -- "$BIN" access --service EAJE --band 0-2 --max-minutes 20 --od "$T/none.csv" --db "$T/demo.db"

# --- national scale: gen, db copy, backup, restore, rollup (src/gen.c, dbcopy.c, rollup.c)
expect 0 "gen small" -- "$BIN" gen --scale small --seed 3 --db "$T/gen.db"
contains "$T/out" "measurements" "gen: rows per table"
contains "$T/out" "lignes par minute" "gen: speed"
expect 1 "gen into a non-empty base" -- "$BIN" gen --scale small --db "$T/gen.db"
contains "$T/err" "n'est pas vide" "gen: non-empty refused"
expect 2 "gen bad scale" -- "$BIN" gen --scale mondial --db "$T/gen2.db"
contains "$T/err" "échelle inconnue" "gen: bad scale message"
expect 2 "gen bad seed" -- "$BIN" gen --scale small --seed -4 --db "$T/gen2.db"
expect 1 "gen national without geography" -- "$BIN" gen --scale national --db "$T/gen3.db"
contains "$T/err" "--geo" "gen national: --geo named"
expect 0 "rollup" -- "$BIN" rollup --db "$T/gen.db"
contains "$T/out" "total" "rollup: total line"
contains "$T/out" "3 plans" "rollup: every plan"
expect 0 "rollup json" -- "$BIN" rollup --format json --db "$T/gen.db"
contains "$T/out" '"bien_engagee"' "rollup json levels"
expect 2 "rollup bad format" -- "$BIN" rollup --format xml --db "$T/gen.db"
expect 0 "db copy" -- "$BIN" db copy --from "$T/demo.db" --to "$T/copy.db"
contains "$T/out" "toutes identiques" "db copy verified"
contains "$T/out" "measurements" "db copy: per-table table"
for t in plans nodes fiches measurements actors communes audit_log; do
	[ "$(sqlite3 "$T/demo.db" "SELECT COUNT(*) FROM $t")" = "$(sqlite3 "$T/copy.db" "SELECT COUNT(*) FROM $t")" ] && ok || ko "db copy: $t count"
done
expect 1 "db copy into a non-empty base" -- "$BIN" db copy --from "$T/demo.db" --to "$T/copy.db"
contains "$T/err" "n'est pas vide" "db copy: non-empty refused"
expect 1 "db copy from a missing base" -- "$BIN" db copy --from "$T/none.db" --to "$T/copy2.db"
[ ! -e "$T/none.db" ] && ok || ko "db copy created its missing source"
expect 2 "db copy onto itself" -- "$BIN" db copy --from "$T/demo.db" --to "$T/demo.db"
expect 0 "backup" -- "$BIN" backup --db "$T/demo.db" -o "$T/demo.backup"
[ "$(head -c 15 "$T/demo.backup")" = "SQLite format 3" ] && ok || ko "backup is not a SQLite file"
expect 1 "backup over an existing file" -- "$BIN" backup --db "$T/demo.db" -o "$T/demo.backup"
contains "$T/err" "existe déjà" "backup: existing file refused"
expect 0 "restore" -- "$BIN" restore "$T/demo.backup" --db "$T/restored.db"
contains "$T/out" "toutes identiques" "restore verified"
[ "$(sqlite3 "$T/demo.db" "SELECT COUNT(*) FROM nodes")" = "$(sqlite3 "$T/restored.db" "SELECT COUNT(*) FROM nodes")" ] && ok || ko "restore: nodes count"
expect 1 "restore over data" -- "$BIN" restore "$T/demo.backup" --db "$T/restored.db"
contains "$T/err" "--force" "restore: --force named"
expect 0 "restore --force" -- "$BIN" restore "$T/demo.backup" --force --db "$T/restored.db"
printf 'pas une sauvegarde\n' >"$T/fake.backup"
expect 1 "restore a foreign file" -- "$BIN" restore "$T/fake.backup" --db "$T/r2.db"
contains "$T/err" "n'est pas une sauvegarde" "restore: foreign file message"
head -c 20000 "$T/demo.backup" >"$T/cut.backup"
expect 1 "restore a truncated file" -- "$BIN" restore "$T/cut.backup" --db "$T/r3.db"
expect 1 "restore a missing file" -- "$BIN" restore "$T/absent.backup" --db "$T/r4.db"
[ "$(sqlite3 "$T/r3.db" "SELECT COUNT(*) FROM plans")" = 0 ] && ok || ko "a refused restore stored something"

# --- governance: meetings as iCalendar (src/governance.c), parsed by python3-icalendar
expect 0 "export meetings" -- "$BIN" export meetings --format ics -o "$T/meetings.ics" --db "$T/demo.db"
contains "$T/meetings.ics" "BEGIN:VCALENDAR" "export meetings: a calendar"
contains "$T/meetings.ics" "Comité de pilotage de la CTG — réunion" "export meetings: the demo COPIL"
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import icalendar' 2>/dev/null; then
	n=$(/usr/bin/python3 -c 'import sys, icalendar; print(len(list(icalendar.Calendar.from_ical(open(sys.argv[1], "rb").read()).walk("VEVENT"))))' "$T/meetings.ics")
	[ "$n" = "$(sqlite3 "$T/demo.db" "SELECT COUNT(*) FROM meetings")" ] && ok || ko "export meetings: $n events parsed"
else
	ko "python3-icalendar is needed (scripts/bootstrap.sh)"
fi
inst=$(sqlite3 "$T/demo.db" "SELECT id FROM instances WHERE kind = 'copil' ORDER BY id LIMIT 1")
expect 0 "export meetings --instance" -- "$BIN" export meetings --instance "$inst" --db "$T/demo.db"
[ "$(grep -c '^BEGIN:VEVENT' "$T/out")" = "$(sqlite3 "$T/demo.db" "SELECT COUNT(*) FROM meetings WHERE instance_id = $inst")" ] && ok || ko "export meetings --instance: one instance"
expect 2 "export meetings bad format" -- "$BIN" export meetings --format pdf --db "$T/demo.db"
contains "$T/err" "--format attend ics" "export meetings: bad format message"
expect 2 "export meetings bad instance" -- "$BIN" export meetings --instance "1 OR 1=1" --db "$T/demo.db"
expect 1 "export meetings unknown instance" -- "$BIN" export meetings --instance 999999 --db "$T/demo.db"
contains "$T/err" "n'existe pas" "export meetings: unknown instance message"

# --- evaluation grids (src/grids.c): frameworks, campaigns, assessments
expect 0 "export grids json" -- "$BIN" export grids --format json -o "$T/grids.json" --db "$T/demo.db"
if [ -x /usr/bin/python3 ]; then
	/usr/bin/python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
m = [f for f in d["frameworks"] if f["code"] == "mailleur"][0]
assert len(m["items"]) == 3 and all(len(a["children"]) == 4 for a in m["items"]) and m["criteria"] == 32
c = [c for c in d["campaigns"] if c["title"] == "Fonction mailleur"][0]
assert len(c["structures"]) == 4 and len(c["assessments"]) == 8 and len(c["testimonies"]) == 39' "$T/grids.json" && ok || ko "export grids json: the mailleur grid and its campaign"
fi
expect 0 "export grids csv" -- "$BIN" export grids --format csv --db "$T/demo.db"
[ "$(head -c 3 "$T/out" | od -An -tx1 | tr -d ' ')" = "efbbbf" ] && ok || ko "export grids csv: BOM"
contains "$T/out" "Les Ors;Pairs;" "export grids csv: a peer assessment"
[ "$(grep -c "$(printf '\r')\$" "$T/out")" = "$(sqlite3 "$T/demo.db" "SELECT COUNT(*) + 1 FROM grid_scores")" ] && ok || ko "export grids csv: one CRLF row per score"
expect 0 "export grids xlsx" -- "$BIN" export grids -o "$T/grids.xlsx" --db "$T/demo.db"
[ "$(head -c 2 "$T/grids.xlsx")" = "PK" ] && ok || ko "export grids xlsx: a zip"
expect 2 "export grids bad format" -- "$BIN" export grids --format ods --db "$T/demo.db"
contains "$T/err" "json, csv ou xlsx" "export grids: bad format message"
expect 2 "export grids bad plan" -- "$BIN" export grids --format json --plan "1 OR 1=1" --db "$T/demo.db"
expect 1 "export grids unknown plan" -- "$BIN" export grids --format json --plan 999999 --db "$T/demo.db"

# --- SPIRAL participation (src/spiral.c): the workshops and criteria of the Ardèche schéma
sp=$(sqlite3 "$T/demo.db" "SELECT id FROM plans WHERE title = 'Schéma des solidarités 2020-2024'")
expect 0 "export spiral csv" -- "$BIN" export spiral "$sp" --db "$T/demo.db"
[ "$(head -c 3 "$T/out" | od -An -tx1 | tr -d ' ')" = "efbbbf" ] && ok || ko "export spiral csv: BOM"
contains "$T/out" "Jeunes mamans du foyer de l'enfance;Groupe homogène (groupe de pairs);" "export spiral csv: a peer group"
[ "$(grep -c "$(printf '\r')\$" "$T/out")" = "$(sqlite3 "$T/demo.db" "SELECT COUNT(*) + 1 FROM spiral_criteria c JOIN spiral_workshops w ON w.id = c.workshop_id WHERE w.plan_id = $sp")" ] && ok || ko "export spiral csv: one CRLF row per criterion"
expect 0 "export spiral xlsx" -- "$BIN" export spiral "$sp" -o "$T/spiral.xlsx" --db "$T/demo.db"
[ "$(head -c 2 "$T/spiral.xlsx")" = "PK" ] && ok || ko "export spiral xlsx: a zip"
expect 0 "export spiral json" -- "$BIN" export spiral "$sp" --format json -o "$T/spiral.json" --db "$T/demo.db"
if [ -x /usr/bin/python3 ]; then
	/usr/bin/python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
top = [t["text"] for t in d["aggregation"]["bien_etre"]["top_criteria"][:5]]
assert top[0] == "Le temps pour soi et avec ses proches" and top[1] == "Le cadre de vie", top
assert "culture" in top[2] and "panouir" in top[3] and top[4] == "Le libre choix", top
assert len(d["workshops"]) == 12' "$T/spiral.json" && ok || ko "export spiral json: the seed's top criteria"
fi
expect 2 "export spiral bad format" -- "$BIN" export spiral "$sp" --format ods --db "$T/demo.db"
contains "$T/err" "csv, xlsx ou json" "export spiral: bad format message"
expect 2 "export spiral bad plan" -- "$BIN" export spiral "1 OR 1=1" --db "$T/demo.db"
expect 1 "export spiral unknown plan" -- "$BIN" export spiral 999999 --db "$T/demo.db"

echo "cli: $pass passed, $fail failed"
[ "$fail" = 0 ]
