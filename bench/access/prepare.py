#!/usr/bin/python3
"""Build the 2SFCA benchmark inputs: demand points (communes) and synthetic supply points.

Usage:
  prepare.py --communes communes.json --cities cities500.txt --supplies N --seed S --out DIR
             [--departements 26,07]

Writes DIR/demand.tsv and DIR/supply.tsv (tab-separated, with a header line):
  demand.tsv  code  lat  lon  population  placement
  supply.tsv  id    commune  lat  lon  capacity
Coordinates are written with repr() (shortest round-trip), so the C and Python readers get the
same doubles.

Demand points: every `commune-actuelle` of communes.json that has a `population` (optionally
only those of the listed départements), in file order.

Coordinates (column `placement`):
  geonames  the GeoNames cities500 row whose country code (column 8) is FR and whose admin4
            (column 13) is the INSEE code; when several rows share a code, the most populated
            place (column 14) wins, the first in the file on a tie (as src/geo_import.c does);
  centroid  no such row: the arithmetic mean of the latitudes and longitudes of the communes of
            the same département that have a row, plus a deterministic offset: a point uniform
            in a disc whose radius is the root-mean-square distance of those communes to their
            mean, clamped to [5, 60] km; the disc point is (r = radius·sqrt(u1), angle 2π·u2)
            with u1, u2 = FNV-1a-32("<code>/r"), FNV-1a-32("<code>/a") divided by 2^32, and a
            local equirectangular conversion (1° of latitude = 111.195 km, longitude scaled by
            cos(latitude));
  anchor    no commune of the département has a row (overseas: GeoNames files them under their
            own country codes, not FR): the same disc offset, radius 10 km, around the
            approximate chef-lieu coordinates in ANCHORS below.

Supply points: N points drawn with the splitmix64 generator seeded with S. For each point: a
commune chosen with probability proportional to its population (inverse transform on the
cumulative populations), then an offset uniform in a disc of 3 km around it (same conversion as
above), and a capacity uniform among the integers 5..60. Ids are "S000001"....
"""

import argparse
import json
import math
import os
import sys

KM_PER_DEG = 111.195  # 6371.0088 km · π / 180, rounded

# Approximate chef-lieu coordinates of the départements and collectivities that have no FR row in
# GeoNames cities500 (they are filed under their own country codes there).
ANCHORS = {
    "971": (15.9985, -61.7255),   # Basse-Terre, Guadeloupe
    "972": (14.6037, -61.0733),   # Fort-de-France, Martinique
    "973": (4.9372, -52.3260),    # Cayenne, Guyane
    "974": (-20.8823, 55.4504),   # Saint-Denis, La Réunion
    "975": (46.7811, -56.1764),   # Saint-Pierre, Saint-Pierre-et-Miquelon
    "976": (-12.7806, 45.2279),   # Mamoudzou, Mayotte
    "977": (17.8962, -62.8498),   # Gustavia, Saint-Barthélemy
    "978": (18.0677, -63.0824),   # Marigot, Saint-Martin
    "986": (-13.2816, -176.1745), # Mata-Utu, Wallis-et-Futuna
    "987": (-17.5350, -149.5696), # Papeete, Polynésie française
    "988": (-22.2758, 166.4580),  # Nouméa, Nouvelle-Calédonie
}

MASK64 = (1 << 64) - 1


class SplitMix64:
    """The splitmix64 generator (Steele, Lea, Flood 2014); uniform() gives 53-bit floats."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def uniform(self):
        return (self.next() >> 11) / float(1 << 53)


def fnv1a32(text):
    h = 0x811C9DC5
    for b in text.encode("utf-8"):
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def disc_offset(lat, lon, radius_km, u1, u2):
    r = radius_km * math.sqrt(u1)
    a = 2.0 * math.pi * u2
    dlat = r * math.cos(a) / KM_PER_DEG
    dlon = r * math.sin(a) / (KM_PER_DEG * max(math.cos(math.radians(lat)), 0.01))
    lat2 = max(-89.999, min(89.999, lat + dlat))
    lon2 = lon + dlon
    if lon2 > 180.0:
        lon2 -= 360.0
    elif lon2 < -180.0:
        lon2 += 360.0
    return lat2, lon2


def load_geonames(path):
    best = {}  # code -> (population, lat, lon)
    with open(path, encoding="utf-8") as f:
        for line in f:
            col = line.rstrip("\n").split("\t")
            if len(col) < 15 or col[8] != "FR" or len(col[13]) != 5:
                continue
            pop = int(col[14]) if col[14].strip() else 0
            old = best.get(col[13])
            if old is None or pop > old[0]:
                best[col[13]] = (pop, float(col[4]), float(col[5]))
    return {code: (v[1], v[2]) for code, v in best.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--communes", required=True)
    ap.add_argument("--cities", required=True)
    ap.add_argument("--supplies", type=int, required=True)
    ap.add_argument("--seed", type=int, default=20261125)
    ap.add_argument("--departements", default="")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    keep = set(d for d in args.departements.split(",") if d)
    with open(args.communes, encoding="utf-8") as f:
        communes = [
            c for c in json.load(f)
            if c.get("type") == "commune-actuelle" and "population" in c
            and (not keep or c["departement"] in keep)
        ]
    geo = load_geonames(args.cities)

    by_dep = {}
    for c in communes:
        if c["code"] in geo:
            by_dep.setdefault(c["departement"], []).append(geo[c["code"]])
    centre = {}
    for dep, pts in by_dep.items():
        mlat = sum(p[0] for p in pts) / len(pts)
        mlon = sum(p[1] for p in pts) / len(pts)
        coslat = math.cos(math.radians(mlat))
        ms = sum(((p[0] - mlat) * KM_PER_DEG) ** 2 + ((p[1] - mlon) * KM_PER_DEG * coslat) ** 2
                 for p in pts) / len(pts)
        centre[dep] = (mlat, mlon, min(60.0, max(5.0, math.sqrt(ms))))

    demand = []
    counts = {"geonames": 0, "centroid": 0, "anchor": 0}
    for c in communes:
        code, dep = c["code"], c["departement"]
        if code in geo:
            lat, lon = geo[code]
            how = "geonames"
        else:
            if dep in centre:
                clat, clon, radius = centre[dep]
                how = "centroid"
            elif dep in ANCHORS:
                clat, clon = ANCHORS[dep]
                radius = 10.0
                how = "anchor"
            else:
                sys.exit("prepare.py: no placement for commune %s (département %s)" % (code, dep))
            u1 = fnv1a32(code + "/r") / 2.0 ** 32
            u2 = fnv1a32(code + "/a") / 2.0 ** 32
            lat, lon = disc_offset(clat, clon, radius, u1, u2)
        counts[how] += 1
        demand.append((code, lat, lon, int(c["population"]), how))

    # Supplies, proportional to population.
    cum = []
    total = 0
    for d in demand:
        total += d[3]
        cum.append(total)
    rng = SplitMix64(args.seed)
    supply = []
    import bisect
    for s in range(args.supplies):
        target = rng.uniform() * total
        k = bisect.bisect_right(cum, target)
        k = min(k, len(demand) - 1)
        code, lat, lon = demand[k][0], demand[k][1], demand[k][2]
        slat, slon = disc_offset(lat, lon, 3.0, rng.uniform(), rng.uniform())
        cap = 5 + int(rng.uniform() * 56)
        supply.append(("S%06d" % (s + 1), code, slat, slon, cap))

    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "demand.tsv"), "w", encoding="utf-8") as f:
        f.write("code\tlat\tlon\tpopulation\tplacement\n")
        for d in demand:
            f.write("%s\t%r\t%r\t%d\t%s\n" % d)
    with open(os.path.join(args.out, "supply.tsv"), "w", encoding="utf-8") as f:
        f.write("id\tcommune\tlat\tlon\tcapacity\n")
        for s in supply:
            f.write("%s\t%s\t%r\t%r\t%d\n" % s)
    print("prepare: %d demand points (geonames %d, centroid %d, anchor %d), population %d, "
          "%d supply points, capacity %d" % (
              len(demand), counts["geonames"], counts["centroid"], counts["anchor"], total,
              len(supply), sum(s[4] for s in supply)))


if __name__ == "__main__":
    main()
