#!/usr/bin/python3
"""Compare the results of the C engine and of the Python reference.

Usage: compare.py C_DIR PY_DIR [--tolerance 1e-9]

Criterion: max |A_C − A_py| <= tolerance, ABSOLUTE, on A in places per inhabitant (A is bounded,
of the order of 0.01–1 here; a relative criterion is meaningless for the communes at the edge of
a catchment, where A tends to 0 continuously). The maximum relative difference over the
communes with A_py >= 1e-6 is printed too, for information, as are the differences of R_j
(relative, over R_py > 0). The reachable counts and the uncovered flags must be identical and
the nearest times equal to the same tolerance (absolute, minutes).
Exit status 0 when everything agrees, 1 otherwise. Prints one line of figures.
"""

import argparse
import math
import sys


def read(path, key_cols):
    rows = {}
    order = []
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            col = line.rstrip("\n").split("\t")
            rows[col[0]] = dict(zip(header, col))
            order.append(col[0])
    return order, rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("c_dir")
    ap.add_argument("py_dir")
    ap.add_argument("--tolerance", type=float, default=1e-9)
    args = ap.parse_args()
    tol = args.tolerance

    c_order, c = read(args.c_dir + "/demand_result.tsv", None)
    p_order, p = read(args.py_dir + "/demand_result.tsv", None)
    problems = []
    if c_order != p_order:
        problems.append("demand rows differ")
    max_abs = max_rel = max_near = 0.0
    worst = None
    count_mismatch = 0
    uncovered = 0
    for code in p_order:
        if code not in c:
            continue
        a_c, a_p = float(c[code]["accessibility"]), float(p[code]["accessibility"])
        d = abs(a_c - a_p)
        if d > max_abs:
            max_abs, worst = d, code
        if a_p >= 1e-6:
            max_rel = max(max_rel, d / a_p)
        if c[code]["reachable"] != p[code]["reachable"] or \
                c[code]["uncovered"] != p[code]["uncovered"]:
            count_mismatch += 1
        uncovered += p[code]["uncovered"] == "1"
        n_c, n_p = c[code]["nearest_minutes"], p[code]["nearest_minutes"]
        if (n_c == "") != (n_p == ""):
            count_mismatch += 1
        elif n_c:
            max_near = max(max_near, abs(float(n_c) - float(n_p)))

    sc_order, sc = read(args.c_dir + "/supply_result.tsv", None)
    sp_order, sp = read(args.py_dir + "/supply_result.tsv", None)
    if sc_order != sp_order:
        problems.append("supply rows differ")
    max_rel_r = 0.0
    for sid in sp_order:
        r_c, r_p = float(sc[sid]["ratio"]), float(sp[sid]["ratio"])
        if r_p > 0:
            max_rel_r = max(max_rel_r, abs(r_c - r_p) / r_p)
        elif r_c != 0:
            max_rel_r = math.inf

    if max_abs > tol:
        problems.append("max |A_C - A_py| = %.3g > %.3g (commune %s)" % (max_abs, tol, worst))
    if count_mismatch:
        problems.append("%d communes with different reachable counts or coverage" %
                        count_mismatch)
    if max_near > tol:
        problems.append("nearest times differ by %.3g min" % max_near)
    print("compare: communes=%d uncovered=%d max_abs_diff_A=%.3g max_rel_diff_A=%.3g "
          "max_rel_diff_R=%.3g max_abs_diff_nearest=%.3g count_mismatches=%d -> %s" % (
              len(p_order), uncovered, max_abs, max_rel, max_rel_r, max_near, count_mismatch,
              "OK" if not problems else "FAIL"))
    for msg in problems:
        print("compare: " + msg, file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
