// pilot: the pilot's path in a real browser — "Mes actions", a progress report with a comment,
// its trace in the fiche's history, and the edit page of someone else's fiche refused.
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

const WCAG = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

async function axe(page, label) {
  const result = await new AxeBuilder({ page }).withTags(WCAG).analyze();
  return result.violations.map((v) => `${label}: ${v.id} (${v.nodes.length}) ${v.help}`);
}

/** Open "Mes actions": through the navigation when it has the link, else by its address. */
async function openMyActions(page) {
  const link = page.getByRole('link', { name: 'Mes actions' });
  if (await link.count()) {
    await link.first().click();
  } else {
    await page.goto(`${server.url}/mes-actions`);
  }
  await page.waitForLoadState('load');
}

test('a pilot reports progress from "Mes actions" and finds it in the fiche history', async () => {
  const page = await newPage(browser);
  await login(page, server.url, 'pilote@demo.maillage.fr', 'maillage-demo');
  await openMyActions(page);
  assert.equal(await page.locator('h1').innerText(), 'Mes actions');
  const lateCount = async () => Number((await page.locator('.lead').innerText()).match(/dont (\d+) en retard/)[1]);
  const lateBefore = await lateCount();
  assert.ok(lateBefore >= 1, 'the demo pilot has an overdue fiche');

  // The overdue fiche says why, in words, and its form is already open.
  const late = page.locator('article.panel', { has: page.locator('.notice-warning') }).first();
  assert.match(await late.locator('.notice-warning').innerText(), /non mis à jour depuis plus de 6 mois/);
  const heading = await late.locator('h3').innerText();
  const number = heading.split(' ')[0];
  await page.screenshot({ path: path.join(OUT, 'mes-actions.png'), fullPage: true });
  assert.deepEqual(await axe(page, 'mes-actions'), []);

  // A report without a comment is refused in French, the page kept.
  await late.getByLabel('Avancement').selectOption('bien_engagee');
  await late.getByLabel('Commentaire').fill('   ');
  await late.locator('form').evaluate((f) => f.setAttribute('novalidate', ''));
  await late.getByRole('button', { name: "Enregistrer l'avancement" }).click();
  await page.waitForLoadState('load');
  assert.match(await page.locator('.notice-error').first().innerText(), /commentaire est obligatoire/);

  const again = page.locator('article.panel', { has: page.locator('.notice-error') }).first();
  await again.getByLabel('Avancement').selectOption('bien_engagee');
  await again.getByLabel('Commentaire').fill('Deux ateliers tenus à Crest, un troisième prévu en mars.');
  await again.getByRole('button', { name: "Enregistrer l'avancement" }).click();
  await page.waitForLoadState('load');
  assert.match(await page.locator('.notice-success').innerText(),
    new RegExp(`Avancement de la fiche ${number.replace(/\./g, '\\.')} enregistré : Bien engagée`));
  // No longer overdue.
  assert.equal(await lateCount(), lateBefore - 1);

  // The fiche page shows the comment and the change in its history.
  await page.getByRole('link', { name: heading }).first().click();
  await page.waitForLoadState('load');
  assert.equal(await page.locator('h1').innerText(), heading.slice(number.length + 1));
  const history = page.locator('section[aria-labelledby="historique"] li').first();
  assert.match(await history.innerText(), /Paul Pilote/);
  assert.match(await history.innerText(), /Avancement : Peu engagée → Bien engagée/);
  const comments = page.locator('section[aria-labelledby="commentaires"]');
  assert.match(await comments.innerText(), /Point d’avancement : Bien engagée|Point d'avancement : Bien engagée/);
  assert.match(await comments.innerText(), /Deux ateliers tenus à Crest/);
  assert.ok(await page.getByRole('link', { name: 'Modifier la fiche' }).isVisible());
  await page.screenshot({ path: path.join(OUT, 'fiche-pilote.png'), fullPage: true });
  assert.deepEqual(await axe(page, 'fiche'), []);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('a pilot edits their own fiche but not someone else\'s', async () => {
  const page = await newPage(browser);
  await login(page, server.url, 'pilote@demo.maillage.fr', 'maillage-demo');
  const mine = await (await page.request.get(`${server.url}/api/v1/me/fiches`)).json();
  const myIds = new Set(mine.fiches.map((f) => f.id));
  const own = mine.fiches.find((f) => f.status === 'en_cours');
  assert.ok(own, 'the demo pilot has a running fiche');

  // Their own fiche: the edit page opens and saves.
  await page.goto(`${server.url}/fiches/${own.id}/modifier`);
  assert.match(await page.locator('h1').innerText(), /Modifier la fiche/);
  assert.deepEqual(await axe(page, 'modifier'), []);
  await page.getByLabel('Résultats attendus').fill('- 40 familles accompagnées\n- un guide partagé');
  await page.getByLabel('Publics visés').fill('familles\nassistantes maternelles');
  await page.getByRole('button', { name: 'Enregistrer la fiche' }).click();
  await page.waitForLoadState('load');
  assert.match(await page.locator('.notice-success').innerText(), /Fiche enregistrée/);
  assert.match(await page.locator('section[aria-labelledby="resultats"]').innerText(), /40 familles accompagnées/);

  // Someone else's fiche: the page has no edit button and its edit page is refused.
  const plan = await (await page.request.get(`${server.url}/api/v1/plans/${own.plan_id}`)).json();
  const leaves = [];
  const walk = (nodes) => nodes.forEach((n) => (n.children.length ? walk(n.children) : leaves.push(n)));
  walk(plan.tree);
  const other = leaves.find((n) => !myIds.has(n.id));
  assert.ok(other, 'a fiche the pilot does not pilot');
  await page.goto(`${server.url}/fiches/${other.id}`);
  assert.equal(await page.getByRole('link', { name: 'Modifier la fiche' }).count(), 0);
  const response = await page.goto(`${server.url}/fiches/${other.id}/modifier`);
  assert.equal(response.status(), 403);
  assert.match(await page.locator('h1').innerText(), /Accès refusé/);
  assert.match(await page.locator('.notice-error').innerText(), /Seuls les pilotes de cette fiche/);
  await page.screenshot({ path: path.join(OUT, 'fiche-refusee.png') });
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('on a phone the pilot pages fit the screen width', async () => {
  const page = await newPage(browser, { viewport: { width: 390, height: 844 }, isMobile: true });
  await login(page, server.url, 'pilote@demo.maillage.fr', 'maillage-demo');
  const mine = await (await page.request.get(`${server.url}/api/v1/me/fiches`)).json();
  const id = mine.fiches[0].id;
  for (const p of ['/mes-actions', `/fiches/${id}`, `/fiches/${id}/modifier`]) {
    await page.goto(server.url + p);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `${p} overflows by ${overflow}px`);
  }
  assert.deepEqual(page.problems, []);
  await page.context().close();
});
