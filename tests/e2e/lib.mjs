// lib: start maillage on a fresh demo database and a headless chromium for the browser tests.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const OUT = path.resolve('tests/e2e/out');

/*
 * MAILLAGE_TEST_PG (a postgresql:// URL, or a file holding one, as for the cmocka harness) runs
 * the browser tests on PostgreSQL: each server gets a database of its own, dropped at stop.
 */
function pgBase() {
  const v = process.env.MAILLAGE_TEST_PG;
  if (!v) return null;
  return (v.startsWith('postgres') ? v : readFileSync(v, 'utf8')).trim();
}
let pgCount = 0;

/** Start the server on a new demo database; resolves to { url, stop }. */
export async function startServer() {
  const bin = process.env.MAILLAGE_BIN || 'build/maillage';
  const dir = mkdtempSync(path.join(tmpdir(), 'maillage-e2e-'));
  const base = pgBase();
  const pgName = base ? `e2e_${process.pid}_${pgCount++}` : null;
  if (base) execFileSync('psql', [base, '-q', '-c', `CREATE DATABASE ${pgName}`], { stdio: 'ignore' });
  const db = base ? base.replace(/\/[^/]*$/, `/${pgName}`) : path.join(dir, 'demo.db');
  execFileSync(bin, ['demo', '--db', db], { stdio: 'ignore' });
  const proc = spawn(bin, ['serve', '--db', db, '--listen', '127.0.0.1:0', '--quiet'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/http:\/\/127\.0\.0\.1:(\d+)\//);
      if (m) resolve(m[0].replace(/\/$/, ''));
    });
    proc.on('exit', (code) => reject(new Error(`maillage exited with ${code}`)));
    setTimeout(() => reject(new Error('maillage did not start')), 20000);
  });
  return {
    url,
    dir,
    db,
    async stop() {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.on('exit', r));
      rmSync(dir, { recursive: true, force: true });
      if (base) {
        execFileSync('psql', [base, '-q', '-c', `DROP DATABASE ${pgName} WITH (FORCE)`],
          { stdio: 'ignore' });
      }
    },
  };
}

/** A headless Debian chromium. */
export async function startBrowser() {
  mkdirSync(OUT, { recursive: true });
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A new page that records console errors and CSP violations into page.problems. */
export async function newPage(browser, options = {}) {
  const context = await browser.newContext({ locale: 'fr-FR', ...options });
  const page = await context.newPage();
  page.problems = [];
  page.on('console', (m) => {
    // A 4xx answer to a wrong form is expected behaviour; anything else is a problem.
    if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) page.problems.push(m.text());
  });
  page.on('pageerror', (e) => page.problems.push(String(e)));
  page.on('dialog', (d) => { page.problems.push(`dialog: ${d.message()}`); d.dismiss(); });
  return page;
}

export async function login(page, url, email, password) {
  await page.goto(`${url}/connexion`);
  await page.getByLabel('Adresse électronique').fill(email);
  await page.getByLabel('Mot de passe').fill(password);
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await page.waitForLoadState('load');
}
