// foundation: the shell of maillage in a real browser — plans, navigation, login, administration,
// hostile input, keyboard use, accessibility (axe-core) and a phone-sized screen.
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

test('the home page lists the three plans and opens a numbered tree', async () => {
  const page = await newPage(browser);
  await page.goto(server.url);
  const cards = page.locator('ul.cards li.card');
  assert.equal(await cards.count(), 3);
  await page.getByRole('link', { name: /Crestois/ }).first().click();
  await page.waitForLoadState('load');
  assert.match(await page.locator('h1').innerText(), /Crestois/);
  assert.ok(await page.locator('.tree .num', { hasText: /^1\.1\.1$/ }).count() >= 1);
  await page.screenshot({ path: path.join(OUT, 'plan.png'), fullPage: false });
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('an administrator logs in, creates an account with a hostile name, and sees it escaped', async () => {
  const page = await newPage(browser);
  await login(page, server.url, 'admin@demo.maillage.fr', 'maillage-demo');
  await page.getByRole('link', { name: 'Administration' }).click();
  await page.waitForLoadState('load');
  const hostile = '<img src=x onerror="window.__xss=1">\' OR 1=1 --';
  await page.getByLabel('Adresse électronique').fill('nouvelle@example.org');
  await page.getByLabel('Nom', { exact: true }).fill(hostile);
  await page.getByLabel('Rôle général').selectOption('pilot');
  await page.getByLabel('Mot de passe initial').fill('un-mot-de-passe-1');
  await page.getByRole('button', { name: 'Créer le compte' }).click();
  await page.waitForLoadState('load');
  assert.match(await page.locator('.notice').innerText(), /Compte créé/);
  assert.ok(await page.getByRole('cell', { name: hostile, exact: true }).count() === 1);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  await page.screenshot({ path: path.join(OUT, 'admin-users.png'), fullPage: true });

  // A wrong form shows a French error and keeps the page usable.
  await page.getByLabel('Adresse électronique').fill('pas-une-adresse');
  await page.getByLabel('Nom', { exact: true }).fill('Quelqu’un');
  await page.getByLabel('Mot de passe initial').fill('un-mot-de-passe-1');
  // Bypass the browser's own e-mail check to reach the server's.
  await page.locator('form.form').last().evaluate((f) => f.setAttribute('novalidate', ''));
  await page.getByRole('button', { name: 'Créer le compte' }).click();
  await page.waitForLoadState('load');
  assert.match(await page.locator('.notice-error').innerText(), /n’est pas valide|n'est pas valide/);

  await page.getByRole('button', { name: 'Se déconnecter' }).click();
  await page.waitForLoadState('load');
  assert.ok(await page.getByRole('link', { name: 'Se connecter' }).isVisible());
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('a wrong password is refused with a French message', async () => {
  const page = await newPage(browser);
  await login(page, server.url, 'admin@demo.maillage.fr', 'pas-le-bon-mot-de-passe');
  assert.match(await page.locator('.notice-error').innerText(), /incorrect/);
  await page.context().close();
});

test('the keyboard reaches the skip link first and it moves focus to the content', async () => {
  const page = await newPage(browser);
  await page.goto(`${server.url}/plans/1`);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Aller au contenu');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'contenu');
  await page.context().close();
});

test('axe-core finds no accessibility violation on the main pages', async () => {
  const page = await newPage(browser);
  for (const p of ['/', '/plans/1', '/connexion', '/territoire', '/acteurs', '/a-propos',
    '/communes/26108']) {
    await page.goto(server.url + p);
    const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
    const summary = result.violations.map((v) => `${p}: ${v.id} (${v.nodes.length}) ${v.help}`);
    assert.deepEqual(summary, []);
  }
  await page.context().close();
});

test('on a phone the pages fit the screen width', async () => {
  const page = await newPage(browser, { viewport: { width: 390, height: 844 }, isMobile: true });
  for (const p of ['/', '/plans/2', '/territoire', '/acteurs']) {
    await page.goto(server.url + p);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `${p} overflows by ${overflow}px`);
  }
  await page.goto(`${server.url}/plans/2`);
  await page.screenshot({ path: path.join(OUT, 'phone-plan.png') });
  await page.context().close();
});
