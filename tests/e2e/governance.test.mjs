// governance: instances and meetings in a real browser — the coordinator creates a COPIL, holds
// a meeting (agenda, attendance, minutes, two decisions, a follow-up), opens the next one and
// finds the previous decisions and the open follow-up first; the .ics export and the personal
// feed parsed by a real iCalendar parser (Debian's python3-icalendar); a partner cannot edit
// the minutes; axe-core on the meeting page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
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

/** Parse an iCalendar file with python3-icalendar: [{summary, start, location}]. */
function parseIcs(file) {
  const script = [
    'import sys, json, icalendar',
    'c = icalendar.Calendar.from_ical(open(sys.argv[1], "rb").read())',
    'print(json.dumps([{"summary": str(e.get("summary")), "start": e.decoded("dtstart").isoformat(),',
    '  "location": str(e.get("location", "")), "description": str(e.get("description", ""))}',
    '  for e in c.walk("VEVENT")]))',
  ].join('\n');
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, file], { encoding: 'utf8' }));
}

test('a COPIL holds a meeting; the next one recalls decisions and open follow-ups', async () => {
  const coord = await newPage(browser);
  await login(coord, server.url, 'coordination@demo.maillage.fr', 'maillage-demo');

  // Create the COPIL.
  await coord.goto(`${server.url}/plans/${planId}/instances`);
  assert.equal(await coord.locator('h1').innerText(), 'Instances de gouvernance');
  await coord.getByLabel('Nom').fill('COPIL de test e2e');
  await coord.getByLabel('Type').selectOption('copil');
  await coord.getByRole('button', { name: 'Créer l\'instance' }).click();
  await coord.waitForLoadState('load');
  assert.equal(await coord.locator('h1').innerText(), 'COPIL de test e2e');
  const instanceUrl = coord.url();

  // A member: the partner.
  await coord.getByLabel('Membre du plan').selectOption({ label: 'Pascale Partenaire' });
  await coord.getByLabel('Rôle dans l\'instance').fill('Partenaire signataire');
  await coord.getByRole('button', { name: 'Ajouter le membre' }).click();
  await coord.waitForLoadState('load');
  assert.match(await coord.locator('main').innerText(), /Pascale Partenaire — Partenaire signataire/);

  // The first meeting.
  await coord.getByLabel('Date et heure').fill('2026-03-12T14:00');
  await coord.getByLabel('Lieu').fill('Mairie de Crest, salle du conseil');
  await coord.getByRole('button', { name: 'Programmer la réunion' }).click();
  await coord.waitForLoadState('load');
  assert.match(await coord.locator('h1').innerText(), /COPIL de test e2e — réunion du 12 mars 2026 à 14 h 00/);
  const meeting1 = coord.url();

  // Agenda: two items, the second linked to a fiche.
  await coord.getByLabel('Point à l\'ordre du jour').fill('Rappel des réalisations précédentes');
  await coord.getByRole('button', { name: 'Ajouter le point' }).click();
  await coord.waitForLoadState('load');
  await coord.getByLabel('Point à l\'ordre du jour').fill('Point d\'étape sur une fiche');
  const fiche = coord.getByLabel('Fiche-action liée');
  await fiche.selectOption(await fiche.locator('option').nth(1).getAttribute('value'));
  await coord.getByRole('button', { name: 'Ajouter le point' }).click();
  await coord.waitForLoadState('load');
  assert.equal(await coord.locator('ol.agenda > li').count(), 2);

  // Attendance: the partner excused, a guest present.
  await coord.getByLabel('Présence de Pascale Partenaire').selectOption('excuse');
  await coord.getByRole('button', { name: 'Enregistrer les présences' }).click();
  await coord.waitForLoadState('load');
  assert.equal(await coord.getByLabel('Présence de Pascale Partenaire').inputValue(), 'excuse');
  await coord.getByLabel('Personne invitée').fill('Animatrice du LAEP');
  await coord.getByRole('button', { name: 'Ajouter l\'invité·e' }).click();
  await coord.waitForLoadState('load');
  assert.match(await coord.locator('main').innerText(), /Animatrice du LAEP \(invité·e\)/);

  // Minutes, then two decisions and a follow-up.
  await coord.getByLabel('Compte rendu (Markdown)').fill('## Relevé\n\nLe COPIL **valide** le calendrier.');
  await coord.getByLabel('État de la réunion').selectOption('held');
  await coord.getByRole('button', { name: 'Enregistrer le compte rendu' }).click();
  await coord.waitForLoadState('load');
  assert.match(await coord.locator('.prose').innerText(), /Le COPIL valide le calendrier/);
  for (const text of ['Un COPIL par trimestre, le COTECH une semaine avant.',
    'Suivi renforcé des ateliers démarches en ligne.']) {
    await coord.getByLabel('Décision', { exact: true }).fill(text);
    await coord.getByRole('button', { name: 'Ajouter la décision' }).click();
    await coord.waitForLoadState('load');
  }
  assert.equal(await coord.locator('ol.decisions > li').count(), 2);
  await coord.getByLabel('Quoi').fill('Préparer le bilan des ateliers');
  await coord.getByLabel('Qui', { exact: true }).selectOption({ label: 'Paul Pilote' });
  await coord.getByLabel('Échéance').fill('2026-05-31');
  await coord.getByRole('button', { name: 'Ajouter la suite' }).click();
  await coord.waitForLoadState('load');
  assert.match(await coord.locator('main').innerText(), /Préparer le bilan des ateliers/);
  assert.deepEqual(await axe(coord), []);
  await coord.screenshot({ path: path.join(OUT, 'governance-meeting.png'), fullPage: true });

  // The meeting pack: the agenda and the dashboard extract of the linked fiche.
  await coord.getByRole('link', { name: 'Dossier de séance' }).click();
  await coord.waitForLoadState('load');
  assert.match(await coord.locator('h1').innerText(), /Dossier de séance — COPIL de test e2e/);
  assert.match(await coord.locator('main').innerText(), /Avancement des fiches-actions liées/);
  assert.deepEqual(await axe(coord), []);
  const pdf = await coord.request.get(`${meeting1}/dossier.pdf`);
  assert.equal(pdf.status(), 200);
  assert.equal((await pdf.body()).subarray(0, 4).toString(), '%PDF');

  // The next meeting (next year: still ahead, so the partner is invited): the reminder first.
  const next = new Date().getUTCFullYear() + 1;
  await coord.goto(instanceUrl);
  await coord.getByLabel('Date et heure').fill(`${next}-06-11T14:00`);
  await coord.getByLabel('Lieu').fill('Mairie de Saillans');
  await coord.getByRole('button', { name: 'Programmer la réunion' }).click();
  await coord.waitForLoadState('load');
  const main = await coord.locator('main').innerText();
  const recall = main.indexOf('Rappel de la réunion précédente');
  const agenda = main.indexOf('Ordre du jour');
  assert.ok(recall >= 0 && recall < agenda, 'the reminder comes before the agenda');
  const reminder = main.slice(recall, agenda);
  assert.match(reminder, /Décision n° 1 — Un COPIL par trimestre/);
  assert.match(reminder, /Décision n° 2 — Suivi renforcé/);
  assert.match(reminder, /Préparer le bilan des ateliers/);
  assert.match(reminder, /Paul Pilote/);
  assert.deepEqual(await axe(coord), []);
  await coord.screenshot({ path: path.join(OUT, 'governance-next-meeting.png'), fullPage: true });

  // The instance's calendar, downloaded and parsed.
  await coord.goto(instanceUrl);
  assert.deepEqual(await axe(coord), []);
  const [download] = await Promise.all([
    coord.waitForEvent('download'),
    coord.getByRole('link', { name: 'Calendrier des réunions (iCalendar, .ics)' }).click(),
  ]);
  const icsFile = path.join(OUT, 'governance-reunions.ics');
  await download.saveAs(icsFile);
  const events = parseIcs(icsFile);
  assert.equal(events.length, 2);
  assert.equal(events[0].summary, 'COPIL de test e2e — réunion');
  assert.equal(events[0].start, '2026-03-12T13:00:00+00:00');
  assert.equal(events[0].location, 'Mairie de Crest, salle du conseil');
  assert.match(events[0].description, /Rappel des réalisations précédentes/);
  assert.equal(events[1].start, `${next}-06-11T12:00:00+00:00`);

  // The personal feed: created, shown once, read anonymously, parsed.
  await coord.goto(`${server.url}/calendrier`);
  await coord.getByRole('button', { name: 'Créer mon lien de calendrier' }).click();
  await coord.waitForLoadState('load');
  const feedUrl = await coord.getByLabel('Adresse du calendrier').inputValue();
  assert.match(feedUrl, /\/calendrier\/[0-9a-f]{64}\.ics$/);
  assert.deepEqual(await axe(coord), []);
  await coord.screenshot({ path: path.join(OUT, 'governance-calendar.png'), fullPage: true });
  const feed = await fetch(`${server.url}${new URL(feedUrl).pathname}`);
  assert.equal(feed.status, 200);
  const feedFile = path.join(OUT, 'governance-feed.ics');
  writeFileSync(feedFile, Buffer.from(await feed.arrayBuffer()));
  const mine = parseIcs(feedFile);
  assert.ok(mine.some((e) => e.summary === 'COPIL de test e2e — réunion'));
  assert.ok(mine.some((e) => e.summary === 'Comité de pilotage de la CTG — réunion'));
  await coord.goto(`${server.url}/calendrier`);
  assert.equal(await coord.getByLabel('Adresse du calendrier').count(), 0);
  assert.deepEqual(coord.problems, []);
  await coord.context().close();

  // The partner reads the meeting but cannot edit the minutes.
  const partner = await newPage(browser);
  await login(partner, server.url, 'partenaire@demo.maillage.fr', 'maillage-demo');
  await partner.goto(meeting1);
  assert.match(await partner.locator('.prose').innerText(), /Le COPIL valide le calendrier/);
  assert.equal(await partner.getByLabel('Compte rendu (Markdown)').count(), 0);
  assert.equal(await partner.getByRole('button', { name: 'Enregistrer le compte rendu' }).count(), 0);
  const csrf = await partner.locator('input[name="_csrf"]').first().getAttribute('value');
  const forged = await partner.request.post(`${meeting1}/compte-rendu`, {
    form: { _csrf: csrf, minutes: 'Piraté', status: 'held' },
    maxRedirects: 0,
  });
  assert.equal(forged.status(), 403);
  await partner.reload();
  assert.doesNotMatch(await partner.locator('main').innerText(), /Piraté/);
  // The partner is a member of the COPIL: invited to the next meeting.
  await partner.goto(`${server.url}/notifications`);
  assert.match(await partner.locator('main').innerText(), /Vous êtes invité·e : COPIL de test e2e/);
  assert.match(await partner.locator('a.bell').innerText(), /Notifications \d+/);
  assert.deepEqual(await axe(partner), []);
  await partner.screenshot({ path: path.join(OUT, 'governance-notifications.png'), fullPage: true });
  await partner.goto(meeting1);
  assert.deepEqual(await axe(partner), []);
  assert.deepEqual(partner.problems, []);
  await partner.context().close();
});

test('a COPIL decision arbitrates a proposal of the yearly cycle', async () => {
  const title = 'Ludothèque itinérante e2e';
  const coord = await newPage(browser);
  await login(coord, server.url, 'coordination@demo.maillage.fr', 'maillage-demo');
  // A proposal, then the COTECH opinion on the cycle page.
  await coord.goto(`${server.url}/plans/${planId}/propositions/nouvelle`);
  const parent = coord.getByLabel('Rattachement');
  await parent.selectOption(await parent.locator('option').nth(1).getAttribute('value'));
  await coord.getByLabel('Intitulé').fill(title);
  await coord.getByLabel('Description').fill('Des jeux prêtés dans les villages.');
  await coord.getByLabel('Résultats attendus').fill('Des familles qui se rencontrent.');
  await coord.getByLabel('Publics visés').fill('Familles');
  const year = await coord.getByLabel('Année de l’annexe visée').inputValue();
  await coord.getByRole('button', { name: 'Proposer la fiche-action' }).click();
  await coord.waitForLoadState('load');

  // The demo COPIL's next meeting offers the proposal; before the COTECH opinion: refused.
  await coord.goto(`${server.url}/plans/${planId}/instances`);
  await coord.getByRole('link', { name: 'Comité de pilotage de la CTG' }).click();
  await coord.waitForLoadState('load');
  await coord.locator('table', { hasText: 'Réunions de l' }).locator('a').first().click();
  await coord.waitForLoadState('load');
  const meetingUrl = coord.url();
  await coord.getByLabel('Décision', { exact: true }).fill('Le COPIL retient la ludothèque itinérante.');
  const proposal = coord.getByLabel('Proposition', { exact: true });
  const option = proposal.locator('option', { hasText: title });
  await proposal.selectOption(await option.getAttribute('value'));
  await coord.getByLabel('Arbitrage', { exact: true }).selectOption('retenue');
  await coord.getByRole('button', { name: 'Ajouter la décision' }).click();
  await coord.waitForLoadState('load');
  assert.match(await coord.locator('.notice.error').innerText(), /après l’avis du COTECH/);
  assert.equal(await coord.getByLabel('Décision', { exact: true }).inputValue(), 'Le COPIL retient la ludothèque itinérante.');

  await coord.goto(`${server.url}/plans/${planId}/cycle?annee=${year}`);
  const panel = coord.locator('section.panel', { has: coord.getByRole('heading', { name: new RegExp(title) }) });
  await panel.getByLabel('Avis du COTECH').selectOption('favorable');
  await panel.getByRole('button', { name: /Enregistrer l’avis/ }).click();
  await coord.waitForLoadState('load');

  // Now the decision records the arbitration.
  await coord.goto(meetingUrl);
  await coord.getByLabel('Décision', { exact: true }).fill('Le COPIL retient la ludothèque itinérante.');
  const proposal2 = coord.getByLabel('Proposition', { exact: true });
  await proposal2.selectOption(await proposal2.locator('option', { hasText: title }).getAttribute('value'));
  await coord.getByLabel('Arbitrage', { exact: true }).selectOption('retenue');
  await coord.getByRole('button', { name: 'Ajouter la décision' }).click();
  await coord.waitForLoadState('load');
  const decision = coord.locator('ol.decisions > li', { hasText: 'ludothèque' });
  assert.match(await decision.innerText(), /Arbitrage du COPIL : retenue/);
  assert.deepEqual(await axe(coord), []);
  // The cycle page shows the arbitration and links back to the meeting's decision.
  await decision.getByRole('link').first().click();
  await coord.waitForLoadState('load');
  const row = coord.locator('tr', { hasText: title });
  assert.match(await row.innerText(), /Retenue/);
  await row.getByRole('link', { name: /Décision n° \d+ — Comité de pilotage de la CTG/ }).click();
  await coord.waitForLoadState('load');
  assert.equal(coord.url().split('#')[0], meetingUrl.split('#')[0]);
  assert.deepEqual(coord.problems, []);
  await coord.context().close();
});
