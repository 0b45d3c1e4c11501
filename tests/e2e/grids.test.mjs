// grids: evaluation grids in a real browser — the coordination creates a custom three-level
// grid (axes → functions → criteria), runs a campaign on two structures, scores them with the
// scale's descriptors, and compares their radars; pages pass axe-core (WCAG 2.1 AA).
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

async function axe(page) {
  const result = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  assert.deepEqual(result.violations.map((v) => `${v.id} (${v.nodes.length}) ${v.help}`), []);
}

const idFromHash = (url) => Number(new URL(url).hash.replace('#e', ''));

/** Add a child (or, when parent is null, a top-level element); returns the new element's id. */
async function addElement(page, parent, label) {
  if (parent === null) {
    await page.locator('#top-label').fill(label);
    await page.getByRole('button', { name: 'Ajouter', exact: true }).click();
  } else {
    const details = page.locator(`#e${parent} > details`);
    await details.locator('summary').click();
    await details.getByLabel("Libellé d'un sous-élément à ajouter").fill(label);
    await details.getByRole('button', { name: 'Ajouter un sous-élément' }).click();
  }
  await page.waitForLoadState('load');
  const id = idFromHash(page.url());
  assert.ok(id > 0, `no element id in ${page.url()}`);
  return id;
}

test('a custom three-level grid, a campaign on two structures, their radars compared', async () => {
  const page = await newPage(browser);
  await login(page, server.url, 'coordination@demo.maillage.fr', 'maillage-demo');

  // The shipped grids are listed; a new grid for the Crestois plan.
  await page.goto(`${server.url}/grilles`);
  assert.match(await page.locator('main').innerText(), /Fonction mailleurs de territoire/);
  await axe(page);
  await page.getByLabel('Nom de la grille').fill('Grille <i>crestoise</i>');
  const plan = page.getByLabel('Portée');
  const option = plan.locator('option', { hasText: 'Crestois' });
  await plan.selectOption(await option.getAttribute('value'));
  await page.getByRole('button', { name: 'Créer la grille' }).click();
  await page.waitForLoadState('load');
  assert.equal(await page.locator('h1').innerText(), 'Grille <i>crestoise</i>');
  const gridUrl = page.url().replace(/#.*/, '');

  // Three axes, each with a function and two criteria: three levels.
  const criteria = [];
  for (const axis of ['Accueillir', 'Relier', 'Peser']) {
    const a = await addElement(page, null, axis);
    const f = await addElement(page, a, `Fonction ${axis.toLowerCase()}`);
    criteria.push(await addElement(page, f, `${axis} : premier critère`));
    criteria.push(await addElement(page, f, `${axis} : second critère`));
  }
  await page.goto(gridUrl);
  const tree = await page.locator('.grid-tree').innerText();
  assert.match(tree, /3\.1\.2/);
  assert.equal(await page.locator('.grid-tree li').count(), 12);
  await axe(page);

  // A campaign of the plan with this grid, on two structures.
  await page.goto(`${server.url}/grilles`);
  await page.getByRole('link', { name: /Crestois/ }).first().click();
  await page.waitForLoadState('load');
  assert.equal(await page.locator('h1').innerText(), "Campagnes d'évaluation");
  await page.getByLabel('Titre').fill('Mailleurs du Crestois');
  await page.getByLabel('Année').fill('2026');
  const fw = page.getByLabel('Grille');
  await fw.selectOption(await fw.locator('option', { hasText: 'crestoise' }).getAttribute('value'));
  await page.getByRole('button', { name: 'Créer la campagne' }).click();
  await page.waitForLoadState('load');
  const campaignUrl = page.url();
  for (const name of ['Caf de la Drôme', 'Mosaic']) {
    await page.getByLabel("Ajouter une structure de l'annuaire").fill(name);
    await page.getByRole('button', { name: 'Ajouter la structure' }).click();
    await page.waitForLoadState('load');
  }
  assert.match(await page.locator('main').innerText(), /Aucune note n'a encore été saisie/);

  // Score both (self-assessment), with the descriptors as the radio labels.
  const scores = { 'Caf de la Drôme': [4, 4, 3, 3, 2, 2], Mosaic: [1, 2, 2, 3, 4, 4] };
  for (const [name, values] of Object.entries(scores)) {
    await page.goto(campaignUrl);
    await page.getByRole('button', { name: `Commencer Auto-évaluation de ${name}` }).click();
    await page.waitForLoadState('load');
    const sets = page.locator('fieldset.criterion');
    assert.equal(await sets.count(), 6);
    for (let i = 0; i < values.length; i++) {
      await sets.nth(i).getByLabel(new RegExp(`^${values[i]} — Niveau ${values[i]}`)).check();
    }
    await sets.nth(0).getByLabel('Éléments de preuve').fill('Compte rendu du 12 mars');
    if (name === 'Mosaic') await axe(page);
    await page.getByRole('button', { name: "Enregistrer l'évaluation" }).click();
    await page.waitForLoadState('load');
    assert.ok(page.url().includes('ok=1'));
  }

  // The campaign page compares the two radars (one per structure, overlaid) with the table.
  await page.goto(campaignUrl);
  const fig = page.locator('figure.chart', { has: page.locator('svg#radar-campagne, svg[aria-labelledby^="radar-campagne"]') });
  assert.equal(await fig.count(), 1);
  const svg = fig.locator('svg');
  assert.equal(await svg.getAttribute('role'), 'img');
  assert.match(await svg.locator('title').textContent(), /Comparaison des structures/);
  assert.equal(await svg.locator('polygon[stroke-width="2"]').count(), 2);
  const table = page.locator('table', { hasText: 'Tableau de comparaison' });
  const text = await table.innerText();
  assert.match(text, /Caf de la Drôme \(auto-évaluation\)/);
  assert.match(text, /Mosaic \(auto-évaluation\)/);
  // Axis 1: Caf (4+4)/2 = 4,0; Mosaic (1+2)/2 = 1,5.
  const row1 = await table.locator('tbody tr').first().innerText();
  assert.match(row1, /1 Accueillir\s+4,0\s+1,5/);
  await page.screenshot({ path: path.join(OUT, 'grids-campaign.png'), fullPage: true });
  await axe(page);

  // Side by side for one structure.
  await page.getByRole('link', { name: /côte à côte : Mosaic/ }).click();
  await page.waitForLoadState('load');
  assert.match(await page.locator('h1').innerText(), /Mosaic/);
  assert.equal(await page.locator('svg[aria-labelledby^="radar-structure"]').count(), 1);
  await axe(page);
  assert.deepEqual(page.problems, []);
});
