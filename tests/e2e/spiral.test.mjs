// spiral: SPIRAL participation in a real browser, from the keyboard only — a facilitator of the
// coordination creates a workshop, types 50 criteria (Enter = next criterion, Tab then Enter =
// save), classifies them in bulk on the classification page (one corrected by typing), and reads
// the most cited criteria; the pages pass axe-core (WCAG 2.1 AA) and the demo's synthesis gives
// back the seed's « top 7 » order.
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

async function axe(page, what) {
  const result = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  assert.deepEqual(result.violations.map((v) => `${what}: ${v.id} (${v.nodes.length}) ${v.help}`), []);
}

// Ten criteria, the first cited most; 50 lines in all, deterministic.
const TEXTS = [
  ['+', 'Le jardin partagé'], ['+', 'La musique au village'], ['-', 'Le bruit de la route'],
  ['-', 'La solitude le soir'], ['=', 'Aider mes voisins'], ['+', 'Le temps pour soi'],
  ['-', 'Le manque de bus'], ['+', 'Les amis'], ['=', 'Organiser une fête des voisins'],
  ['-', 'Les démarches en ligne'],
];
const WEIGHTS = [10, 8, 7, 6, 5, 4, 4, 3, 2, 1];
function lines() {
  const out = [];
  const left = [...WEIGHTS];
  while (out.length < 50) {
    for (let i = 0; i < TEXTS.length && out.length < 50; i++) {
      if (left[i] === 0) continue;
      left[i]--;
      const [sign, text] = TEXTS[i];
      // Every fourth is retained by the group ("*").
      out.push(`${sign}${out.length % 4 === 0 ? '*' : ''} ${text}`);
    }
  }
  return out;
}

test('a facilitator types 50 criteria from the keyboard, classifies them and reads the top', async () => {
  const page = await newPage(browser);
  await login(page, server.url, 'coordination@demo.maillage.fr', 'maillage-demo');
  // The Crestois CTG, found through the plan list like a user would.
  await page.goto(`${server.url}/`);
  await page.getByRole('link', { name: /Crestois/ }).first().click();
  await page.waitForLoadState('load');
  const planUrl = page.url();
  const planId = planUrl.match(/\/plans\/(\d+)/)[1];
  await page.getByRole('link', { name: 'Participation SPIRAL' }).click();
  await page.waitForLoadState('load');
  await axe(page, 'overview');
  await page.getByRole('link', { name: 'Nouvel atelier' }).click();
  await page.waitForLoadState('load');
  await axe(page, 'new workshop');

  // The workshop form, from the keyboard: focus its first field, then Tab from field to field.
  await page.locator('#w-kind').focus();
  await page.keyboard.type('G'); // Groupe homogène (groupe de pairs)
  await page.keyboard.press('Tab');
  await page.keyboard.type('Habitants du quartier <des Ors>');
  await page.keyboard.press('Tab');
  await page.keyboard.type('H'); // Habitants
  await page.keyboard.press('Tab');
  await page.keyboard.type('Centre social');
  // The date is left empty: Tab through its day, month and year to the territory.
  for (let i = 0; i < 5; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(() => document.activeElement.id) === 'w-terr') break;
  }
  assert.equal(await page.evaluate(() => document.activeElement.id), 'w-terr');
  await page.keyboard.type('26108');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('14');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/saisie$/);

  // The entry page focuses the textarea (autofocus, applied once the page has loaded: wait for
  // it rather than race it): type 50 lines, Enter between them.
  await page.waitForLoadState('load');
  await page.waitForFunction(() => document.activeElement?.id === 'e-lines', null, { timeout: 5000 })
    .catch(() => {});
  assert.equal(await page.evaluate(() => document.activeElement.id), 'e-lines');
  await axe(page, 'entry');
  const all = lines();
  assert.equal(all.length, 50);
  for (const l of all) {
    await page.keyboard.type(l);
    await page.keyboard.press('Enter');
  }
  await page.keyboard.press('Tab'); // the button, right after the textarea
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Enregistrer les critères');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/spiral\/ateliers\/\d+\?ok=50$/);
  assert.match(await page.locator('.notice').first().innerText(), /50 critère\(s\) enregistré\(s\)/);
  assert.equal(await page.locator('h1').innerText(), 'Atelier SPIRAL : Habitants du quartier <des Ors>');
  const workshopId = page.url().match(/ateliers\/(\d+)/)[1];
  await axe(page, 'workshop');
  await page.screenshot({ path: path.join(OUT, 'spiral-workshop.png'), fullPage: true });

  // Classification: suggestions preselected; correct the first from the keyboard, then Tab to
  // the button and validate everything at once.
  await page.goto(`${server.url}/plans/${planId}/spiral/classement`);
  await axe(page, 'classification');
  const selects = page.locator('main select');
  assert.equal(await selects.count(), 50);
  assert.match(await selects.first().locator('option:checked').innerText(), /^B04 /);
  await selects.first().focus();
  await page.keyboard.type('D04'); // Voisinage
  assert.match(await selects.first().locator('option:checked').innerText(), /^D04 /);
  for (let i = 0; i < 200; i++) {
    const tag = await page.evaluate(() => document.activeElement.tagName);
    if (tag === 'BUTTON') break;
    await page.keyboard.press('Tab');
  }
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Valider le classement');
  await page.keyboard.press('Enter');
  await page.waitForLoadState('load');
  assert.match(await page.locator('.notice').first().innerText(), /50 critère\(s\) classé\(s\)/);
  assert.match(await page.locator('main').innerText(), /Tous les critères sont classés/);

  const crit = await (await page.request.get(
    `${server.url}/api/v1/plans/${planId}/spiral/criteria?workshop=${workshopId}`)).json();
  assert.equal(crit.criteria.length, 50);
  assert.equal(crit.criteria.filter((c) => c.component).length, 50);
  assert.equal(crit.criteria[0].component, 'D04');
  assert.equal(crit.criteria.filter((c) => c.group_approved).length, 13);

  // The synthesis: the most cited criteria, in order.
  await page.goto(`${server.url}/plans/${planId}/spiral/synthese`);
  await axe(page, 'synthesis');
  const bien = await page.locator('ol.top-bien_etre > li').allInnerTexts();
  assert.match(bien[0], /^Le jardin partagé 10$/);
  assert.match(bien[1], /^La musique au village 8$/);
  const mal = await page.locator('ol.top-mal_etre > li').allInnerTexts();
  assert.match(mal[0], /^Le bruit de la route 7$/);
  assert.match(mal[1], /^La solitude le soir 6$/);
  await page.screenshot({ path: path.join(OUT, 'spiral-synthesis.png'), fullPage: true });
  await page.goto(`${server.url}/plans/${planId}/spiral/liens`);
  await axe(page, 'links');
  assert.deepEqual(page.problems, []);
});

test('the demo synthesis gives back the seed\'s top 7 in order', async () => {
  const page = await newPage(browser);
  await login(page, server.url, 'admin@demo.maillage.fr', 'maillage-demo');
  await page.goto(`${server.url}/`);
  await page.getByRole('link', { name: /Schéma des solidarités/ }).first().click();
  await page.waitForLoadState('load');
  await page.getByRole('link', { name: 'Participation SPIRAL' }).click();
  await page.waitForLoadState('load');
  await page.getByRole('link', { name: 'Synthèse', exact: true }).click();
  await page.waitForLoadState('load');
  const bien = (await page.locator('ol.top-bien_etre > li').allInnerTexts()).map((t) => t.replace(/ \d+$/, ''));
  assert.deepEqual(bien.slice(0, 5), [
    'Le temps pour soi et avec ses proches', 'Le cadre de vie', 'L\'accès à la culture',
    'S\'épanouir et se réaliser par l\'activité', 'Le libre choix']);
  const mal = (await page.locator('ol.top-mal_etre > li').allInnerTexts()).map((t) => t.replace(/ \d+$/, ''));
  assert.deepEqual(mal.slice(0, 4), [
    'Les difficultés de santé et d\'accès aux soins',
    'La pollution et les problématiques liées à l\'environnement',
    'Les relations aux autres (y compris les relations aux administrations)',
    'La mobilité et les déplacements']);
  await axe(page, 'demo synthesis');
  await page.goto(`${server.url}/admin/spiral`);
  await axe(page, 'key');
  assert.deepEqual(page.problems, []);
});
