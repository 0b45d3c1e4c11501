// indicators: a pilot enters an indicator value through the form and finds it in the list; the
// référentiel, the fiche's indicators, the import page and the overdue page pass axe-core.
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

/** The ids of the fiches linked from the current page (/fiches/N), in page order. */
async function ficheIds(page) {
  const hrefs = await page.locator('a[href^="/fiches/"]').evaluateAll(
    (as) => as.map((a) => a.getAttribute('href')));
  const ids = [];
  for (const h of hrefs) {
    const m = h.match(/^\/fiches\/(\d+)$/);
    if (m && !ids.includes(m[1])) ids.push(m[1]);
  }
  return ids;
}

/** The Crestois plan's id, from the home page. */
async function crestoisId(page) {
  await page.goto(server.url);
  const href = await page.getByRole('link', { name: /Crestois/ }).first().getAttribute('href');
  return href.match(/\/plans\/(\d+)/)[1];
}

/** Make sure the référentiel has an indicator, as the coordination (in its own context). */
async function ensureReferentiel() {
  const page = await newPage(browser);
  await page.goto(`${server.url}/indicateurs`);
  if (await page.locator('tbody tr').count() === 0) {
    await login(page, server.url, 'coordination@demo.maillage.fr', 'maillage-demo');
    await page.goto(`${server.url}/indicateurs/nouveau`);
    await page.getByLabel("Nom de l'indicateur").fill('Nombre de familles accompagnées (e2e)');
    await page.getByLabel('Unité').fill('familles');
    await page.getByRole('radio', { name: 'Réalisation' }).check();
    await page.getByRole('radio', { name: 'Nombre' }).check();
    await page.getByRole('radio', { name: 'À la hausse' }).check();
    await page.getByRole('button', { name: 'Ajouter au référentiel' }).click();
    await page.waitForLoadState('load');
    assert.match(await page.locator('.notice-success').innerText(), /ajouté au référentiel/);
  }
  await page.context().close();
}

/**
 * On a fiche's indicators page that the user may edit: the first indicator's page, after
 * attaching one from the référentiel when the fiche has none.
 */
async function openFirstIndicator(page, ficheId) {
  await page.goto(`${server.url}/fiches/${ficheId}/indicateurs`);
  let saisir = page.locator('a[href$="#saisie"]');
  if (await saisir.count() === 0) {
    await ensureReferentiel();
    await page.reload();
    const select = page.getByLabel('Indicateur du référentiel');
    const value = await select.locator('option[value]:not([value=""])').first().getAttribute('value');
    await select.selectOption(value);
    await page.getByLabel('Fréquence de mesure attendue').selectOption('quarterly');
    await page.getByRole('button', { name: 'Rattacher à la fiche' }).click();
    await page.waitForLoadState('load');
    assert.match(await page.locator('.notice-success').innerText(), /rattaché/);
    await page.goto(`${server.url}/fiches/${ficheId}/indicateurs`);
    saisir = page.locator('a[href$="#saisie"]');
  }
  assert.deepEqual(await axe(page, 'fiche-indicateurs'), []);
  await page.screenshot({ path: path.join(OUT, 'fiche-indicateurs.png'), fullPage: true });
  await saisir.first().click();
  await page.waitForLoadState('load');
}

/** Enter one measurement on the current fiche indicator page and check it is listed. */
async function enterMeasurement(page) {
  const form = page.locator('#saisie form');
  await form.getByLabel('Date de la mesure').fill('2026-10-15');
  const qualitative = await form.getByLabel('Niveau').count();
  // A wrong value first: refused in French, what was typed kept.
  if (!qualitative) {
    await form.getByLabel(/^Valeur/).fill('douze');
    await form.evaluate((f) => f.setAttribute('novalidate', ''));
    await form.getByRole('button', { name: 'Enregistrer la mesure' }).click();
    await page.waitForLoadState('load');
    assert.match(await page.locator('.notice-error').innerText(), /n’est pas un nombre|n'est pas un nombre/);
    assert.equal(await page.locator('#saisie form').getByLabel(/^Valeur/).inputValue(), 'douze');
  }
  const again = page.locator('#saisie form');
  await again.getByLabel('Date de la mesure').fill('2026-10-15');
  if (qualitative) {
    await again.getByLabel('Appréciation').fill('Partenaires bien mobilisés <script>window.__xss=1</script>');
    await again.getByLabel('Niveau').selectOption('3');
  } else {
    await again.getByLabel(/^Valeur/).fill('12,5');
  }
  await again.getByLabel('Source').fill('Saisie e2e');
  await again.getByLabel('Commentaire').fill('Mesure saisie <b>par le navigateur</b>');
  await again.getByRole('button', { name: 'Enregistrer la mesure' }).click();
  await page.waitForLoadState('load');
  assert.match(await page.locator('.notice-success').innerText(), /Mesure enregistrée/);
  const row = page.locator('#m-caption').locator('xpath=..').locator('tbody tr', { hasText: '15 octobre 2026' });
  assert.equal(await row.count(), 1);
  assert.match(await row.innerText(), qualitative ? /3 — Satisfaisant/ : /12,5/);
  assert.match(await row.innerText(), /Mesure saisie <b>par le navigateur<\/b>/);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  assert.deepEqual(await axe(page, 'indicateur-fiche'), []);
  await page.screenshot({ path: path.join(OUT, 'indicateur-fiche.png'), fullPage: true });
}

test('a pilot enters a measurement through the form and sees it in the list', async () => {
  const page = await newPage(browser);
  await login(page, server.url, 'pilote@demo.maillage.fr', 'maillage-demo');
  // The pilot's fiches: from "Mes actions" when it lists some.
  let ids = [];
  const mine = await page.goto(`${server.url}/mes-actions`);
  if (mine && mine.status() === 200) ids = await ficheIds(page);
  let editable = null;
  for (const id of ids) {
    await page.goto(`${server.url}/fiches/${id}/indicateurs`);
    if (await page.getByRole('heading', { name: 'Ajouter un indicateur' }).count()) {
      editable = id;
      break;
    }
  }
  if (!editable) {
    // No fiche assigned to the demo pilot: the coordination sets up and enters the value.
    await page.context().close();
    const co = await newPage(browser);
    await login(co, server.url, 'coordination@demo.maillage.fr', 'maillage-demo');
    const plan = await crestoisId(co);
    await co.goto(`${server.url}/plans/${plan}`);
    const all = await ficheIds(co);
    assert.ok(all.length > 0, 'the Crestois plan has fiches');
    await openFirstIndicator(co, all[0]);
    await enterMeasurement(co);
    assert.deepEqual(co.problems, []);
    await co.context().close();
    return;
  }
  await openFirstIndicator(page, editable);
  await enterMeasurement(page);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('the référentiel, the import page and the overdue page are accessible', async () => {
  const page = await newPage(browser);
  await page.goto(`${server.url}/indicateurs`);
  assert.equal(await page.locator('h1').innerText(), 'Référentiel des indicateurs');
  assert.deepEqual(await axe(page, 'indicateurs'), []);
  await page.getByLabel('Type').selectOption('impact');
  await page.getByRole('button', { name: 'Filtrer' }).click();
  await page.waitForLoadState('load');
  assert.match(page.url(), /type=impact/);
  await login(page, server.url, 'coordination@demo.maillage.fr', 'maillage-demo');
  const plan = await crestoisId(page);
  await page.goto(`${server.url}/plans/${plan}/mesures/importer`);
  assert.equal(await page.locator('h1').innerText(), "Importer des mesures d'indicateurs");
  assert.deepEqual(await axe(page, 'import'), []);
  // A pasted file with a wrong line is refused, line by line.
  await page.getByLabel('Ou collez le contenu').fill('9.9.9;Inconnu;2024-01-01;1;;');
  await page.getByRole('button', { name: 'Importer' }).click();
  await page.waitForLoadState('load');
  assert.match(await page.locator('.notice-error').innerText(), /n’a pas été importé|n'a pas été importé/);
  assert.match(await page.locator('table').first().innerText(), /Fiche « 9\.9\.9 » inconnue/);
  assert.deepEqual(await axe(page, 'import-errors'), []);
  await page.screenshot({ path: path.join(OUT, 'import-errors.png'), fullPage: true });
  await page.goto(`${server.url}/plans/${plan}/mesures-en-retard`);
  assert.equal(await page.locator('h1').innerText(), "Mesures d'indicateurs en retard");
  assert.deepEqual(await axe(page, 'retards'), []);
  await page.screenshot({ path: path.join(OUT, 'mesures-en-retard.png'), fullPage: true });
  assert.deepEqual(page.problems, []);
  await page.context().close();
});
