// coordinator: a coordinator's path in a real browser — create a plan, build a three-level tree
// in the editor, move a node and read the recomputed numbering; tags on a node; invite someone.
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

const exactly = (text) => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);

/** The id of the tree node whose title link reads `title`. */
async function nodeId(page, title) {
  const href = await page.locator('.tree .title a', { hasText: exactly(title) }).first().getAttribute('href');
  return href.split('/').pop();
}

/** The number shown for the node titled `title`. */
async function numberOf(page, title) {
  const id = await nodeId(page, title);
  return page.locator(`#n${id} > .node .num`).innerText();
}

/** Open the tools of a node (a <details>) and return them. */
async function tools(page, title) {
  const id = await nodeId(page, title);
  const details = page.locator(`#n${id} > details.node-tools`);
  if (!(await details.evaluate((d) => d.open))) await details.locator('summary').click();
  return details;
}

async function addUnder(page, parent, title, where = 'enfant') {
  const t = await tools(page, parent);
  await t.getByLabel('Titre du nouvel élément').fill(title);
  if (where === 'suivant') await t.getByLabel(/^Après/).check();
  await t.getByRole('button', { name: 'Ajouter' }).click();
  await page.waitForLoadState('load');
  assert.match(await page.locator('.notice-success').innerText(), /Élément ajouté/);
}

async function move(page, title, button) {
  const t = await tools(page, title);
  await t.getByRole('button', { name: button }).click();
  await page.waitForLoadState('load');
}

test('a coordinator creates a plan, builds a three-level tree, moves a node and reads the numbers', async () => {
  const page = await newPage(browser);
  await login(page, server.url, 'coordination@demo.maillage.fr', 'maillage-demo');
  await page.goto(`${server.url}/plans/nouveau`);
  assert.equal(await page.locator('h1').innerText(), 'Nouveau plan');

  // A wrong period is refused in French and what was typed is kept.
  await page.getByLabel('Type de plan').selectOption('schema');
  await page.getByLabel('Titre', { exact: true }).fill('Schéma de test <script>window.__xss=1</script>');
  await page.getByLabel('Année de début').fill('2029');
  await page.getByLabel('Année de fin').fill('2025');
  await page.getByLabel("Niveaux de l'arborescence").fill('Axe\nObjectif\nAction');
  await page.getByLabel('Territoire', { exact: true }).fill('26108 200040509');
  await page.getByLabel('Signataires').fill('caf de la drome');
  await page.getByRole('button', { name: 'Créer le plan' }).click();
  await page.waitForLoadState('load');
  assert.match(await page.locator('.notice-error').innerText(), /année de fin/);
  assert.equal(await page.getByLabel('Territoire', { exact: true }).inputValue(), '26108 200040509');
  assert.match(await page.locator('.hint', { hasText: 'Territoire reconnu' }).innerText(), /Crest/);
  await page.getByLabel('Année de fin').fill('2031');
  await page.getByRole('button', { name: 'Créer le plan' }).click();
  await page.waitForLoadState('load');
  assert.match(page.url(), /\/plans\/\d+\/arbre\?ok=cree/);
  assert.match(await page.locator('.eyebrow').first().textContent(), /<script>/);
  assert.equal(await page.evaluate(() => window.__xss), undefined);

  // Two axes at the top, an objective under the first, an action under the objective.
  for (const title of ['Axe de test A', 'Axe de test B']) {
    await page.locator('#add-root').fill(title);
    await page.locator('section.panel').getByRole('button', { name: 'Ajouter' }).click();
    await page.waitForLoadState('load');
  }
  await addUnder(page, 'Axe de test A', 'Objectif de test');
  await addUnder(page, 'Objectif de test', 'Action de test');
  await addUnder(page, 'Objectif de test', 'Objectif suivant', 'suivant');
  assert.equal(await numberOf(page, 'Axe de test A'), '1');
  assert.equal(await numberOf(page, 'Axe de test B'), '2');
  assert.equal(await numberOf(page, 'Objectif de test'), '1.1');
  assert.equal(await numberOf(page, 'Objectif suivant'), '1.2');
  assert.equal(await numberOf(page, 'Action de test'), '1.1.1');
  // The action, on the last level, is a fiche-action: it links to its fiche.
  assert.match(await page.locator('.tree .title a', { hasText: 'Action de test' }).getAttribute('href'), /^\/fiches\/\d+$/);
  await page.screenshot({ path: path.join(OUT, 'coordinator-tree.png'), fullPage: true });

  // Move the first axis down: everything under it is renumbered.
  await move(page, 'Axe de test A', /Descendre/);
  assert.match(await page.locator('.notice-success').innerText(), /déplacé/);
  assert.equal(await numberOf(page, 'Axe de test B'), '1');
  assert.equal(await numberOf(page, 'Axe de test A'), '2');
  assert.equal(await numberOf(page, 'Objectif de test'), '2.1');
  assert.equal(await numberOf(page, 'Action de test'), '2.1.1');
  // The moved node is the target of the page's anchor.
  const id = await nodeId(page, 'Axe de test A');
  assert.ok(page.url().endsWith(`#n${id}`));
  // Indent the second objective under the first, then bring it back.
  await move(page, 'Objectif suivant', /Sous l'élément précédent/);
  assert.equal(await numberOf(page, 'Objectif suivant'), '2.1.2');
  await move(page, 'Objectif suivant', /Remonter d'un niveau/);
  assert.equal(await numberOf(page, 'Objectif suivant'), '2.2');
  // The plan page shows the same numbering.
  await page.getByRole('link', { name: /Schéma de test/ }).first().click();
  await page.waitForLoadState('load');
  const nums = await page.locator('.tree .num').allInnerTexts();
  assert.deepEqual(nums, ['1', '2', '2.1', '2.1.1', '2.2']);
  await page.screenshot({ path: path.join(OUT, 'coordinator-plan.png'), fullPage: true });
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('the tree editor, a node form and the members page have no accessibility violation', async () => {
  const page = await newPage(browser);
  await login(page, server.url, 'coordination@demo.maillage.fr', 'maillage-demo');
  await page.goto(server.url);
  await page.getByRole('link', { name: /Crestois/ }).first().click();
  await page.waitForLoadState('load');
  await page.getByRole('link', { name: "Modifier l'arborescence" }).click();
  await page.waitForLoadState('load');
  assert.equal(await page.locator('h1').innerText(), 'Arborescence');
  const violations = await axe(page, 'arbre');

  // Tag a node with a thematic and a territory of the plan, through its form.
  await page.getByLabel("Type d'étiquette").selectOption('territoire');
  await page.getByLabel('Libellé', { exact: true }).fill('Territoire Vallée de la Drôme');
  await page.getByRole('button', { name: "Ajouter l'étiquette" }).click();
  await page.waitForLoadState('load');
  const t = await tools(page, 'Petite enfance');
  await t.getByRole('link', { name: 'Modifier' }).click();
  await page.waitForLoadState('load');
  violations.push(...(await axe(page, 'noeud')));
  await page.getByLabel('Territoire Vallée de la Drôme').check();
  await page.getByRole('button', { name: 'Enregistrer' }).click();
  await page.waitForLoadState('load');
  const id = await nodeId(page, 'Petite enfance');
  assert.match(await page.locator(`#n${id} > .node .tags`).innerText(), /Territoire Vallée de la Drôme/);

  // Invite someone: the link is shown once.
  await page.goto(`${page.url().replace(/\/arbre.*$/, '')}/membres`);
  violations.push(...(await axe(page, 'membres')));
  await page.getByLabel('Adresse électronique').fill('nouvelle.pilote@example.org');
  await page.getByLabel('Rôle dans le plan').selectOption('pilot');
  await page.getByRole('button', { name: 'Inviter', exact: true }).click();
  await page.waitForLoadState('load');
  const link = await page.locator('code.invitation-link').innerText();
  assert.match(link, /\/invitation\/[0-9a-f]{64}$/);
  await page.screenshot({ path: path.join(OUT, 'coordinator-members.png'), fullPage: true });

  // The invited person creates the account and lands on the plan.
  const guest = await newPage(browser);
  await guest.goto(link);
  violations.push(...(await axe(guest, 'invitation')));
  await guest.getByLabel('Votre nom').fill('Nadia Nouvelle');
  await guest.getByLabel('Mot de passe', { exact: true }).fill('un-mot-de-passe-long');
  await guest.getByLabel('Confirmation du mot de passe').fill('un-mot-de-passe-long');
  await guest.getByRole('button', { name: 'Créer mon compte et rejoindre le plan' }).click();
  await guest.waitForLoadState('load');
  assert.match(await guest.locator('h1').innerText(), /Crestois/);
  assert.match(await guest.locator('.facts').innerText(), /pilote/);
  assert.deepEqual(violations, []);
  assert.deepEqual(page.problems, []);
  assert.deepEqual(guest.problems, []);
  await guest.context().close();
  await page.context().close();
});
