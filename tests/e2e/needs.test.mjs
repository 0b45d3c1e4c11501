// needs: the observatory of needs in a real browser — an inhabitant proposes a need without any
// personal data, the coordination publishes it, it shows among the uncovered needs; pages pass
// axe-core (WCAG 2.1 AA).
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

const TITLE = 'Une navette <b>solidaire</b> vers le marché de Crest';

test('an inhabitant proposes a need, the coordination publishes it, it is uncovered', async () => {
  const anon = await newPage(browser);
  await anon.goto(`${server.url}/public/besoins/proposer`);
  assert.match(await anon.locator('main').innerText(), /Aucune donnée personnelle/);
  await anon.getByLabel(/Le besoin en une phrase/).fill(TITLE);
  await anon.getByLabel('Description').fill('Les anciens des hameaux ne peuvent plus descendre.');
  await anon.getByLabel(/Commune concernée/).fill('26108');
  await anon.getByLabel('Thématique').selectOption('acces-droits');
  await anon.getByRole('button', { name: 'Envoyer la proposition' }).click();
  await anon.waitForLoadState('load');
  assert.match(await anon.locator('.notice').first().innerText(), /relecture/);
  await anon.goto(`${server.url}/besoins`);
  assert.doesNotMatch(await anon.locator('main').innerText(), /navette/);

  const coord = await newPage(browser);
  await login(coord, server.url, 'coordination@demo.maillage.fr', 'maillage-demo');
  await coord.goto(`${server.url}/besoins/moderation`);
  const card = coord.locator('article', { hasText: 'navette' });
  assert.equal(await card.locator('h2').innerText(), TITLE); // shown as text, not markup
  await card.getByRole('button', { name: 'Publier' }).click();
  await coord.waitForLoadState('load');
  assert.match(await coord.locator('.notice').first().innerText(), /publié/);

  await anon.goto(`${server.url}/besoins/non-couverts`);
  await anon.getByRole('link', { name: TITLE }).click();
  await anon.waitForLoadState('load');
  assert.equal(await anon.locator('h1').innerText(), TITLE);
  assert.equal(await anon.getByText('Enregistré par').count(), 0);
  await anon.screenshot({ path: path.join(OUT, 'needs-need.png'), fullPage: true });
  // The coordination sees the linking form on the need page; it passes axe-core too.
  await coord.goto(anon.url());
  assert.equal(await coord.getByLabel('Lier une fiche-action de vos plans').count(), 1);
  const result = await new AxeBuilder({ page: coord })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  assert.deepEqual(result.violations.map((v) => `${v.id} (${v.nodes.length}) ${v.help}`), []);
  await coord.getByRole('button', { name: 'Lier' }).click();
  await coord.waitForLoadState('load');
  assert.match(await coord.locator('.notice').first().innerText(), /liée/);
  assert.equal(await coord.getByRole('button', { name: /Retirer le lien/ }).count(), 1);
  assert.deepEqual(anon.problems, []);
  assert.deepEqual(coord.problems, []);
  await anon.context().close();
  await coord.context().close();
});

test('the pages of the observatory pass axe-core', async () => {
  const page = await newPage(browser);
  await login(page, server.url, 'coordination@demo.maillage.fr', 'maillage-demo');
  for (const p of ['/besoins', '/besoins/non-couverts', '/besoins/nouveau', '/besoins/importer',
    '/besoins/moderation', '/public/besoins/proposer']) {
    await page.goto(`${server.url}${p}`);
    const result = await new AxeBuilder({ page })
      .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
    const summary = result.violations.map((v) => `${p}: ${v.id} (${v.nodes.length}) ${v.help}`);
    assert.deepEqual(summary, []);
  }
  assert.deepEqual(page.problems, []);
  await page.context().close();
});
