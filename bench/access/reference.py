#!/usr/bin/python3
"""Independent reference implementation of the 2SFCA (numpy + scipy), for checking src/access.c.

Usage:
  reference.py DIR [--max-minutes 30] [--decay gaussian|linear|none|step:10=1,20=0.66,30=0.33]
               [--detour 1.3] [--speed 50] [--out DIR/py]

Reads DIR/demand.tsv and DIR/supply.tsv (see prepare.py), writes OUT/demand_result.tsv
(code, accessibility, reachable, nearest_minutes, uncovered) and OUT/supply_result.tsv
(id, ratio, served), and prints one line "py_seconds=<compute time> pairs=<n>".
The compute time runs from the arrays in memory to the results (file reading and writing
excluded), as in the C driver.

Formulas (the same as src/access.h, written independently):
  travel time   t_ij = haversine_km(i, j) · detour / speed · 60, haversine on R = 6371.0088 km:
                a = sin²(Δφ/2) + cos φ_i cos φ_j sin²(Δλ/2), d = 2R·asin(√a)
  catchment     t_ij <= max_minutes
  decay         none: 1; linear: 1 − t/s; gaussian: (exp(−½(t/s)²) − exp(−½)) / (1 − exp(−½))
                for t < s (0 beyond), s = max_minutes; step: weight of the first threshold >= t
  step 1        R_j = S_j / Σ_k P_k f(t_kj)   (0 when the sum is 0)
  step 2        A_i = Σ_j R_j f(t_ij)
Neighbours: scipy.spatial.cKDTree on 3-D points of the sphere, radius the chord of the
great-circle bound (with a 1e-9 relative margin), then the exact test on t_ij.
"""

import argparse
import os
import sys
import time

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

R_KM = 6371.0088


def unit_xyz(lat_deg, lon_deg):
    p = np.radians(lat_deg)
    l = np.radians(lon_deg)
    return np.column_stack((np.cos(p) * np.cos(l), np.cos(p) * np.sin(l), np.sin(p)))


def decay(spec, t, max_minutes):
    f = np.zeros_like(t)
    inside = (t >= 0) & (t <= max_minutes)
    kind, _, arg = spec.partition(":")
    if kind == "none":
        f[inside] = 1.0
    elif kind == "linear":
        s = float(arg) if arg else max_minutes
        m = inside & (t < s)
        f[m] = 1.0 - t[m] / s
    elif kind == "gaussian":
        s = float(arg) if arg else max_minutes
        m = inside & (t < s)
        e = np.exp(-0.5)
        f[m] = (np.exp(-0.5 * (t[m] / s) ** 2) - e) / (1.0 - e)
    elif kind == "step":
        steps = [(10.0, 1.0), (20.0, 0.66), (30.0, 0.33)]
        if arg:
            steps = [tuple(float(x) for x in p.split("=")) for p in arg.split(",")]
        done = ~inside
        for upto, w in steps:
            m = ~done & (t <= upto)
            f[m] = w
            done |= m
    else:
        sys.exit("reference.py: unknown decay " + spec)
    return f


def two_step(dlat, dlon, pop, slat, slon, cap, max_minutes, decay_spec, detour, speed):
    nd, ns = len(dlat), len(slat)
    km_max = max_minutes * speed / 60.0 / detour
    chord = 2.0 * np.sin(min(km_max / R_KM, np.pi) / 2.0) * (1.0 + 1e-9) + 1e-12
    dtree = cKDTree(unit_xyz(dlat, dlon))
    stree = cKDTree(unit_xyz(slat, slon))
    sp = dtree.sparse_distance_matrix(stree, chord, output_type="ndarray")
    i = sp["i"].astype(np.int64)
    j = sp["j"].astype(np.int64)
    # Exact travel times by the textbook haversine.
    p1, p2 = np.radians(dlat[i]), np.radians(slat[j])
    dl = np.radians(slon[j] - dlon[i])
    a = np.sin((p2 - p1) / 2.0) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2.0) ** 2
    km = 2.0 * R_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0)))
    t = km * detour / speed * 60.0
    keep = t <= max_minutes
    i, j, t = i[keep], j[keep], t[keep]
    f = decay(decay_spec, t, max_minutes)
    served = np.bincount(j, weights=pop[i] * f, minlength=ns)
    ratio = np.zeros(ns)
    pos = served > 0
    ratio[pos] = cap[pos] / served[pos]
    acc = np.bincount(i, weights=ratio[j] * f, minlength=nd)
    reach = np.bincount(i, minlength=nd)
    nearest = np.full(nd, np.nan)
    if len(i):
        order = np.argsort(i, kind="stable")
        io, to = i[order], t[order]
        starts = np.flatnonzero(np.r_[True, io[1:] != io[:-1]])
        nearest[io[starts]] = np.minimum.reduceat(to, starts)
    return acc, reach, nearest, ratio, served, len(i)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--max-minutes", type=float, default=30.0)
    ap.add_argument("--decay", default="gaussian")
    ap.add_argument("--detour", type=float, default=1.3)
    ap.add_argument("--speed", type=float, default=50.0)
    ap.add_argument("--out")
    args = ap.parse_args()
    out = args.out or os.path.join(args.dir, "py")

    demand = pd.read_csv(os.path.join(args.dir, "demand.tsv"), sep="\t",
                         dtype={"code": str, "placement": str}, float_precision="round_trip")
    supply = pd.read_csv(os.path.join(args.dir, "supply.tsv"), sep="\t",
                         dtype={"id": str, "commune": str}, float_precision="round_trip")
    dlat = demand["lat"].to_numpy(np.float64)
    dlon = demand["lon"].to_numpy(np.float64)
    pop = demand["population"].to_numpy(np.float64)
    slat = supply["lat"].to_numpy(np.float64)
    slon = supply["lon"].to_numpy(np.float64)
    cap = supply["capacity"].to_numpy(np.float64)

    t0 = time.perf_counter()
    acc, reach, nearest, ratio, served, npairs = two_step(
        dlat, dlon, pop, slat, slon, cap, args.max_minutes, args.decay, args.detour, args.speed)
    elapsed = time.perf_counter() - t0

    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "demand_result.tsv"), "w") as f:
        f.write("code\taccessibility\treachable\tnearest_minutes\tuncovered\n")
        for code, a, r, n in zip(demand["code"], acc, reach, nearest):
            f.write("%s\t%r\t%d\t%s\t%d\n" % (code, float(a), r,
                                               "" if np.isnan(n) else repr(float(n)), r == 0))
    with open(os.path.join(out, "supply_result.tsv"), "w") as f:
        f.write("id\tratio\tserved\n")
        for sid, r, s in zip(supply["id"], ratio, served):
            f.write("%s\t%r\t%r\n" % (sid, float(r), float(s)))
    print("py_seconds=%.6f pairs=%d" % (elapsed, npairs))


if __name__ == "__main__":
    main()
