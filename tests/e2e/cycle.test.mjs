// cycle: the yearly cycle in a real browser — a partner proposes a fiche-action, the coordinator
// records the COTECH opinion and the COPIL arbitration, closes the year and reads the annex.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { startServer, startBrowser, newPage, login, OUT } from './lib.mjs';

let server;
let browser;
let planId;

before(async () => {
  server = await startServer();
  browser = await startBrowser();
  const plans = await (await fetch(`${server.url}/api/v1/plans`)).json();
  planId = plans.plans.find((p) => /Crestois/.test(p.title)).id;
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function axe(page) {
  const result = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(', ')}`);
}

test('a proposal goes through COTECH and COPIL into the frozen annex', async () => {
  const title = 'Ateliers « parents-enfants » itinérants <b>test</b>';

  // The partner proposes.
  const partner = await newPage(browser);
  await login(partner, server.url, 'partenaire@demo.maillage.fr', 'maillage-demo');
  await partner.goto(`${server.url}/plans/${planId}/cycle`);
  assert.match(await partner.locator('h1').innerText(), /Cycle annuel/);
  assert.match(await partner.locator('main').innerText(), /1\. Proposition[\s\S]*2\. Avis du COTECH[\s\S]*3\. Arbitrage du COPIL[\s\S]*4\. Annexe votée/);
  await partner.getByRole('link', { name: 'Proposer une fiche-action' }).click();
  await partner.waitForLoadState('load');
  const parent = partner.getByLabel('Rattachement');
  const second = await parent.locator('option').nth(2).getAttribute('value');
  await parent.selectOption(second);
  await partner.getByLabel('Intitulé').fill(title);
  await partner.getByLabel('Description').fill('Des ateliers **itinérants** dans les villages.');
  await partner.getByLabel('Résultats attendus').fill('Moins d’isolement des parents.');
  await partner.getByLabel('Publics visés').fill('Parents de jeunes enfants\nAssistantes maternelles');
  const year = await partner.getByLabel('Année de l’annexe visée').inputValue();
  assert.match(year, /^20\d\d$/);
  assert.deepEqual(await axe(partner), []);
  await partner.screenshot({ path: path.join(OUT, 'cycle-proposal-form.png'), fullPage: true });
  await partner.getByRole('button', { name: 'Proposer la fiche-action' }).click();
  await partner.waitForLoadState('load');
  assert.match(await partner.locator('.notice-success').innerText(), /Proposition enregistrée/);
  assert.ok(await partner.getByRole('link', { name: title, exact: true }).count() === 1);
  // A partner has no decision form.
  assert.equal(await partner.getByRole('button', { name: /Enregistrer l’avis/ }).count(), 0);
  assert.deepEqual(partner.problems, []);
  await partner.context().close();

  // The coordinator records the COTECH opinion, then the COPIL arbitration.
  const coord = await newPage(browser);
  await login(coord, server.url, 'coordination@demo.maillage.fr', 'maillage-demo');
  await coord.goto(`${server.url}/plans/${planId}/cycle?annee=${year}`);
  const panel = coord.locator('section.panel', { has: coord.getByRole('heading', { name: new RegExp('Ateliers « parents-enfants »') }) });
  assert.equal(await panel.count(), 1);
  await panel.getByLabel('Avis du COTECH').selectOption('favorable');
  await panel.getByLabel('Date du COTECH').fill(`${year}-01-15`);
  await panel.getByLabel('Commentaire du COTECH').fill('Projet solide, à articuler avec le RPE.');
  await panel.getByRole('button', { name: /Enregistrer l’avis/ }).click();
  await coord.waitForLoadState('load');
  assert.match(await coord.locator('.notice-success').innerText(), /Avis du COTECH enregistré/);

  const panel2 = coord.locator('section.panel', { has: coord.getByRole('heading', { name: new RegExp('Ateliers « parents-enfants »') }) });
  await panel2.getByLabel('Arbitrage du COPIL').selectOption('retenue');
  await panel2.getByLabel('Date du COPIL').fill(`${year}-02-10`);
  await panel2.getByRole('button', { name: /Enregistrer l’arbitrage/ }).click();
  await coord.waitForLoadState('load');
  assert.match(await coord.locator('.notice-success').innerText(), /Arbitrage du COPIL enregistré/);
  const row = coord.locator('tr', { has: coord.getByRole('link', { name: title, exact: true }) });
  assert.match(await row.innerText(), /Favorable[\s\S]*Retenue/);
  assert.deepEqual(await axe(coord), []);
  await coord.screenshot({ path: path.join(OUT, 'cycle-decided.png'), fullPage: true });

  // Closing: a confirmation step, then the frozen annex.
  await coord.getByRole('link', { name: `Préparer la clôture de l’année ${year}` }).click();
  await coord.waitForLoadState('load');
  assert.match(await coord.locator('#cloture').innerText(), /Ateliers « parents-enfants »/);
  await coord.getByRole('button', { name: `Clôturer l’année ${year} et figer l’annexe` }).click();
  await coord.waitForLoadState('load');
  assert.match(await coord.locator('h1').innerText(), new RegExp(`Annexe ${year}`));
  assert.match(await coord.locator('.notice-success').innerText(), /Année clôturée/);
  const item = coord.locator('tr', { hasText: 'Ateliers « parents-enfants »' });
  assert.equal(await item.count(), 1);
  assert.match(await item.innerText(), /Retenue[\s\S]*nouvelle/);
  assert.match(await coord.locator('main').innerText(), /Imprimer/);
  assert.deepEqual(await axe(coord), []);
  await coord.screenshot({ path: path.join(OUT, 'cycle-annex.png'), fullPage: true });
  await coord.emulateMedia({ media: 'print' });
  await coord.screenshot({ path: path.join(OUT, 'cycle-annex-print.png'), fullPage: true });
  await coord.emulateMedia({ media: 'screen' });

  // The year is closed: the cycle page no longer offers decisions.
  await coord.goto(`${server.url}/plans/${planId}/cycle?annee=${year}`);
  assert.equal(await coord.getByRole('button', { name: /Enregistrer l’avis/ }).count(), 0);
  assert.match(await coord.locator('main').innerText(), /figée le/);
  assert.deepEqual(coord.problems, []);
  await coord.context().close();

  // The annex of a public plan is readable without an account.
  const visitor = await newPage(browser);
  await visitor.goto(`${server.url}/plans/${planId}/annexes`);
  await visitor.getByRole('link', { name: `Annexe ${year}`, exact: true }).click();
  await visitor.waitForLoadState('load');
  assert.equal(await visitor.locator('tr', { hasText: 'Ateliers « parents-enfants »' }).count(), 1);
  assert.deepEqual(visitor.problems, []);
  await visitor.context().close();
});
