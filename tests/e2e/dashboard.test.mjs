// dashboard: the plan dashboard, the public portal and the bilan in a real browser —
// axe-core finds no violation, the pages work without JavaScript, and fit a 390-pixel phone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { startServer, startBrowser, newPage, login, OUT } from './lib.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await startBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** The demo CTG of the Crestois: its number from the home page. */
async function ctgPath(page) {
  await page.goto(server.url);
  const href = await page.getByRole('link', { name: /Crestois/ }).first().getAttribute('href');
  return href; // "/plans/2"
}

async function axe(page, what) {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const summary = result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
  assert.deepEqual(summary, [], `${what}: axe violations`);
}

test('the dashboard shows the distribution, its rule, charts with tables, and passes axe', async () => {
  const page = await newPage(browser);
  await login(page, server.url, 'coordination@demo.maillage.fr', 'maillage-demo');
  const plan = await ctgPath(page);
  await page.goto(`${server.url}${plan}/tableau-de-bord`);
  assert.equal(await page.locator('h1').innerText(), 'Tableau de bord');
  assert.match(await page.locator('#avancement').innerText(), /Avancement des fiches-actions/);
  assert.ok(await page.locator('svg[role="img"]').count() >= 3);
  assert.ok(await page.locator('figure.chart table caption').count() >= 3);
  assert.match(await page.locator('.rule').innerText(), /fiches suivies/);
  // a filter through the form (GET, no script needed), folded until asked for
  await page.locator('details.filters-box > summary').click();
  await page.getByLabel('Élément du plan').selectOption({ index: 2 });
  await page.getByRole('button', { name: 'Filtrer' }).click();
  await page.waitForLoadState('load');
  assert.match(page.url(), /noeud=\d+/);
  assert.match(await page.locator('main').innerText(), /Sélection :/);
  await axe(page, 'dashboard (filtered)');
  await page.goto(`${server.url}${plan}/tableau-de-bord`);
  await axe(page, 'dashboard');
  await page.screenshot({ path: path.join(OUT, 'dashboard.png'), fullPage: false });
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('the dashboard fits a 390-pixel phone and reads without JavaScript', async () => {
  const page = await newPage(browser, { viewport: { width: 390, height: 844 }, javaScriptEnabled: false });
  const plan = await ctgPath(page);
  await page.goto(`${server.url}${plan}/tableau-de-bord`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
  // every chart fits the screen
  const widest = await page.evaluate(() => Math.max(...[...document.querySelectorAll('svg.chart-svg')].map((s) => s.getBoundingClientRect().right)));
  assert.ok(widest <= 390, `a chart reaches ${widest}px`);
  await page.screenshot({ path: path.join(OUT, 'dashboard-phone.png'), fullPage: false });
  await page.context().close();
});

test('the public portal and a commune page pass axe and fit a phone', async () => {
  const page = await newPage(browser);
  const plan = await ctgPath(page);
  const id = plan.split('/').pop();
  await page.goto(`${server.url}/public/plans/${id}`);
  assert.match(await page.locator('h1').innerText(), /Crestois/);
  assert.ok(await page.locator('ol.tree').count() >= 1);
  await axe(page, 'public plan');
  await page.goto(`${server.url}/public/communes/26108`);
  assert.match(await page.locator('h1').innerText(), /Ce qui se fait à Crest/);
  await axe(page, 'commune page');
  assert.deepEqual(page.problems, []);
  await page.context().close();

  const phone = await newPage(browser, { viewport: { width: 390, height: 844 } });
  await phone.goto(`${server.url}/public/plans/${id}`);
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the portal is ${overflow}px wider than the phone`);
  await phone.screenshot({ path: path.join(OUT, 'portal-phone.png'), fullPage: false });
  await phone.context().close();
});

test('the bilan page and the newsletter preview pass axe', async () => {
  const page = await newPage(browser);
  await login(page, server.url, 'coordination@demo.maillage.fr', 'maillage-demo');
  const plan = await ctgPath(page);
  await page.goto(`${server.url}${plan}/revue-mi-parcours`);
  assert.match(await page.locator('h1').innerText(), /Revue à mi-parcours/);
  await axe(page, 'mid-term review');
  await page.goto(`${server.url}${plan}/lettre`);
  assert.match(await page.locator('h1').innerText(), /Lettre trimestrielle/);
  await axe(page, 'newsletter');
  assert.deepEqual(page.problems, []);
  await page.context().close();
});
