// The console in a real browser (SPEC 8): Playwright (playwright-core) driving Debian's
// Chromium against the real server on a fresh demo database. Run by .ci/run after the Rust
// build:  SENCO_BIN=target/debug/senco-oversight node web/tests/console.mjs
//
// Each role's main path: an LA officer (tiles equal the API's counts, the deadlines table
// filtered by status shows the API's rows, the CSV downloads), a school (a report with more
// pupils with SEND than on roll shows the error beside that field and stores nothing; a
// correct one is stored, then amended), a governor (a meeting with two actions recorded,
// the report signed off, both in the printable pack), the console with
// SENCO_TRUSTED_DOCUMENTS_ONLY, a
// keyboard-only sign-in and submission, axe-core on every page, and a phone-sized screenshot
// kept in web/tests/artifacts/.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { startProvider } from './oidc-provider.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const BIN = resolve(process.env.SENCO_BIN ?? join(here, '..', '..', 'target', 'debug', 'senco-oversight'));
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = join(here, 'artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

/** Starts `serve` in demo mode on a fresh SQLite database; resolves with its address and banner tokens. */
function startServer(extraEnv = {}, bind = '127.0.0.1:0') {
  const dir = mkdtempSync(join(tmpdir(), 'senco-console-'));
  const env = { ...process.env, SENCO_BIND: bind, RUST_LOG: 'warn', ...extraEnv };
  for (const k of ['SENCO_DATABASE_URL', 'SENCO_JWT_SECRET', 'SENCO_DEMO', 'SENCO_TRUSTED_DOCUMENTS']) delete env[k];
  const child = spawn(BIN, ['serve'], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolvePromise, reject) => {
    const tokens = {};
    let base = null;
    let scope = null;
    const lines = createInterface({ input: child.stdout });
    const timer = setTimeout(() => reject(new Error('the server printed no banner in 120 s')), 120000);
    lines.on('line', (raw) => {
      const line = raw.trim();
      const gql = /^GraphQL:\s+(http:\/\/\S+)\/graphql$/.exec(line);
      if (gql) base = gql[1];
      const role = /\(([a-z]+:[^()]+)\):$/.exec(line);
      if (role) scope = role[1];
      else if (scope && line.startsWith('eyJ')) {
        tokens[scope] = line;
        scope = null;
      }
      if (line.startsWith('More tokens')) {
        clearTimeout(timer);
        resolvePromise({ base, tokens, stop: () => (child.kill('SIGTERM'), rmSync(dir, { recursive: true, force: true })) });
      }
    });
    child.on('exit', (code) => reject(new Error(`the server exited with ${code}`)));
  });
}

async function api(base, token, query, variables = {}) {
  const r = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await r.json();
  assert.ok(!body.errors, JSON.stringify(body.errors));
  return body.data;
}

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

/** axe-core on the page as it stands (its context made with `bypassCSP`, since the page's CSP
 * rightly forbids the injected script): no serious or critical violation. */
async function axe(page, name) {
  await page.waitForLoadState('networkidle');
  await page.addScriptTag({ content: AXE });
  const result = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target).join(' | ')})`), [], `axe on ${name}`);
}

const failures = [];
async function check(name, fn) {
  try {
    await fn();
    console.log(`ok - ${name}`);
  } catch (e) {
    failures.push(name);
    console.log(`not ok - ${name}\n${e.stack ?? e}`);
  }
}

const server = await startServer();
const { base, tokens } = server;
const la = tokens['la:202:read'];
const schoolScope = Object.keys(tokens).find((s) => s.startsWith('school:') && s.endsWith(':write'));
const urn = Number(schoolScope.split(':')[1]);
const school = tokens[schoolScope];
const csp = [];

try {
  await check('an LA officer: tiles equal the API counts, the table filters by status, the CSV downloads', async () => {
    const ctx = await browser.newContext({ acceptDownloads: true });
    const page = await ctx.newPage();
    page.on('console', (m) => m.type() === 'error' && csp.push(m.text()));
    await page.goto(`${base}/#token=${la}`);
    await page.getByRole('heading', { level: 1, name: 'Camden' }).waitFor();
    assert.equal(new URL(page.url()).hash, '', 'the token fragment is removed');
    const d = await api(base, la, '{ qualificationDeadlines(filter: {laCode: 202}, first: 0) { statusCounts { status count } projectionCounts { projection count } } complianceIssues(filter: {laCode: 202}, severities: [STATUTORY], first: 0) { totalCount } }');
    const n = (s) => d.qualificationDeadlines.statusCounts.find((c) => c.status === s).count;
    const p = (s) => d.qualificationDeadlines.projectionCounts.find((c) => c.projection === s).count;
    const tile = async (label) => Number(await page.locator('.tile', { hasText: label }).locator('.tile-value').innerText());
    assert.equal(await tile('SENCOs overdue'), n('OVERDUE'));
    assert.equal(await tile('In training'), n('IN_TRAINING'));
    assert.equal(await tile('Statutory issues'), d.complianceIssues.totalCount);
    assert.equal(await tile('Cannot meet the deadline'), p('CANNOT_MEET'));
    assert.equal(await tile('At risk: must register'), p('AT_RISK'));
    assert.ok(p('AT_RISK') > 0, 'the demo has a SENCO at risk');

    // Filtered to AT_RISK: the API's rows, each with the date to register by.
    await page.locator('#deadline-projection').selectOption('AT_RISK');
    await page.getByText(`${p('AT_RISK')} SENCO appointments`).waitFor();
    const risky = await page.locator('section[aria-labelledby="deadlines"] tbody tr').allInnerTexts();
    const wantRisk = await api(base, la, '{ qualificationDeadlines(filter: {laCode: 202, projections: [AT_RISK]}, first: 25) { edges { node { school { name } } } } }');
    assert.equal(risky.length, wantRisk.qualificationDeadlines.edges.length);
    wantRisk.qualificationDeadlines.edges.forEach((e, i) => assert.ok(risky[i].includes(e.node.school.name)));
    assert.ok(risky.every((r) => r.includes('At risk') && r.includes('register by')));
    await page.locator('#deadline-projection').selectOption('');

    await page.locator('#deadline-status').selectOption('OVERDUE');
    await page.getByText(`${n('OVERDUE')} SENCO appointments`).waitFor();
    const rows = await page.locator('section[aria-labelledby="deadlines"] tbody tr').allInnerTexts();
    const want = await api(base, la, '{ qualificationDeadlines(filter: {laCode: 202, statuses: [OVERDUE]}, first: 25) { edges { node { school { name } status } } } }');
    assert.equal(rows.length, want.qualificationDeadlines.edges.length);
    want.qualificationDeadlines.edges.forEach((e, i) => assert.ok(rows[i].includes(e.node.school.name), `${rows[i]} / ${e.node.school.name}`));
    assert.ok(rows.every((r) => r.includes('Overdue')));

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
    const csv = readFileSync(await download.path(), 'utf8');
    const lines = csv.replace(/^\uFEFF/, '').trim().split('\r\n');
    assert.equal(lines.length - 1, n('OVERDUE'), 'one CSV row per overdue SENCO');

    // Narrowed by school name as well: the API's total for the same filter.
    await page.locator('#deadline-status').selectOption('');
    const fragment = 'primary school 1000';
    const named = await api(base, la, 'query($t: String) { qualificationDeadlines(filter: {laCode: 202, schoolNameContains: $t}, first: 0) { totalCount } }', { t: fragment });
    assert.ok(named.qualificationDeadlines.totalCount > 0 && named.qualificationDeadlines.totalCount < d.qualificationDeadlines.statusCounts.reduce((a, c) => a + c.count, 0));
    await page.locator('#deadline-school').fill(fragment);
    await page.getByText(`${named.qualificationDeadlines.totalCount} SENCO appointments`).waitFor();
    const shown = await page.locator('section[aria-labelledby="deadlines"] tbody tr').allInnerTexts();
    assert.ok(shown.length > 0 && shown.every((r) => r.toLowerCase().includes(fragment)), shown.join('\n'));
    await ctx.close();
    const audit = await browser.newContext({ bypassCSP: true });
    const a = await audit.newPage();
    await a.goto(`${base}/#token=${la}`);
    await a.getByRole('heading', { level: 1, name: 'Camden' }).waitFor();
    await axe(a, 'the LA view');
    await a.goto(`${base}/#/school/${urn}`);
    await a.getByRole('heading', { name: 'SENCOs' }).waitFor();
    await axe(a, 'a school page seen by the LA');
    await audit.close();
  });

  await check('a school: an impossible report shows the error beside the field and stores nothing; a correct one is stored, then amended', async () => {
    const ctx = await browser.newContext({ bypassCSP: true });
    const page = await ctx.newPage();
    await page.goto(`${base}/#token=${school}`);
    await page.getByRole('heading', { name: 'Termly report' }).waitFor();
    const term = await page.locator('#report-term').inputValue();
    const [year, termName] = term.split('-');
    const before = await api(base, school, 'query($u: Int!, $y: Int!, $t: Term!) { termlyReport(schoolUrn: $u, academicYear: $y, term: $t) { version } }', { u: urn, y: Number(year), t: termName });
    const fill = async (values) => {
      for (const [label, v] of Object.entries(values)) await page.getByLabel(label, { exact: true }).fill(String(v));
    };
    await fill({
      'SENCO non-contact hours a week': 10,
      'E1: notional SEN budget (£)': '6000',
      'E2: top-up funding (£)': '1000',
      'E3: other high-needs funding (£)': '0',
      'Additional funding (£)': '0',
      'Spent to date (£)': '2500.50',
      'Pupils on roll': 200,
      'Pupils with SEND': 201,
      'On SEN support (census code K)': 20,
      'With an EHC plan (census code E)': 5,
      'EHC needs assessment applications in process': 1,
    });
    await page.getByRole('button', { name: /Submit (report|amendment)/ }).click();
    const field = page.locator('.field', { has: page.getByLabel('Pupils with SEND', { exact: true }) });
    await field.locator('.field-error').waitFor();
    assert.equal(await page.getByLabel('Pupils with SEND', { exact: true }).getAttribute('aria-invalid'), 'true');
    const still = await api(base, school, 'query($u: Int!, $y: Int!, $t: Term!) { termlyReport(schoolUrn: $u, academicYear: $y, term: $t) { version } }', { u: urn, y: Number(year), t: termName });
    assert.deepEqual(still, before, 'nothing stored');
    await axe(page, 'the school view with an error');

    await fill({ 'Pupils with SEND': 30 });
    await page.getByRole('button', { name: /Submit (report|amendment)/ }).click();
    const first = (before.termlyReport?.version ?? 0) + 1;
    await page.getByText(`Saved as version ${first}.`).waitFor();
    await page.getByText(`Amending version ${first}`).waitFor();
    await fill({ 'Pupils with SEND': 31 });
    await page.getByRole('button', { name: 'Submit amendment' }).click();
    await page.getByText(`Saved as version ${first + 1}.`).waitFor();
    const after = await api(base, school, 'query($u: Int!, $y: Int!, $t: Term!) { termlyReport(schoolUrn: $u, academicYear: $y, term: $t) { version pupilsWithSend history { version } } }', { u: urn, y: Number(year), t: termName });
    assert.equal(after.termlyReport.version, first + 1);
    assert.equal(after.termlyReport.pupilsWithSend, 31);
    await ctx.close();
  });

  await check('a governor: a meeting with two actions is recorded, the report signed off, the pack shows both', async () => {
    const govScope = Object.keys(tokens).find((s) => s.startsWith('school:') && s.endsWith(':govern'));
    assert.ok(govScope, 'the banner prints a governor token');
    const gov = tokens[govScope];
    const gUrn = Number(govScope.split(':')[1]);
    const ctx = await browser.newContext({ bypassCSP: true });
    const page = await ctx.newPage();
    page.on('console', (m) => m.type() === 'error' && csp.push(m.text()));
    await page.goto(`${base}/#token=${gov}`);
    await page.getByRole('heading', { level: 1, name: /: governance$/ }).waitFor();
    await axe(page, 'the governor view');
    const stored = async () =>
      (await api(base, gov, 'query($u: Int!) { school(urn: $u) { governorMeetings { totalCount } governanceActions { id } } }', { u: gUrn })).school;
    const before = await stored();

    // A due date five years out is refused beside its field, and nothing is stored.
    await page.locator('#m-points-0').fill('The autumn figures; two EHC needs assessments waiting.');
    await page.locator('#a-desc-0').fill('Review the provision map with class teachers');
    await page.locator('#a-owner-0').fill('SENCO');
    await page.locator('#a-due-0').fill('2099-01-01');
    await page.getByRole('button', { name: 'Add an action' }).click();
    await page.locator('#a-desc-1').fill('Observe a speech and language group');
    await page.locator('#a-owner-1').fill('SEN governor');
    const soon = new Date(Date.now() + 40 * 86400000).toISOString().slice(0, 10);
    await page.locator('#a-due-1').fill(soon);
    await page.getByRole('button', { name: 'Record the meeting' }).click();
    await page.locator('#input-actions-0-dueOn-error').waitFor();
    assert.equal(await page.locator('#a-due-0').getAttribute('aria-invalid'), 'true');
    assert.deepEqual(await stored(), before, 'a refused action stores neither it nor the meeting');

    await page.locator('#a-due-0').fill(soon);
    await page.getByRole('button', { name: 'Record the meeting' }).click();
    await page.getByText('recorded with 2 actions').waitFor();
    const after = await stored();
    assert.equal(after.governorMeetings.totalCount, before.governorMeetings.totalCount + 1);
    assert.equal(after.governanceActions.length, before.governanceActions.length + 2);
    const register = page.locator('section[aria-labelledby="actions"] tbody');
    await register.getByRole('cell', { name: 'Observe a speech and language group', exact: true }).waitFor();
    await register.getByRole('cell', { name: 'Review the provision map with class teachers', exact: true }).waitFor();
    // Following one up from the register.
    await register.getByRole('button', { name: /Mark done\W+Review the provision map/ }).click();
    await register.locator('tr', { hasText: 'Review the provision map' }).getByText('Done').waitFor();
    const done = await api(base, gov, 'query($u: Int!) { school(urn: $u) { governanceActions(status: DONE) { description completedOn } } }', { u: gUrn });
    assert.ok(done.school.governanceActions.some((a) => a.description === 'Review the provision map with class teachers' && a.completedOn));

    await page.locator('#s-by').fill('Ruth Clarke');
    await page.locator('#s-role').selectOption('SEN_GOVERNOR');
    await page.getByRole('button', { name: 'Sign off the report' }).click();
    await page.getByText(/Signed off version \d+ of the/).waitFor();
    const signed = await api(base, gov, 'query($u: Int!) { school(urn: $u) { signOffs { document signedBy role current reportVersion academicYear term } termlyReports { academicYear term version } } }', { u: gUrn });
    const mine = signed.school.signOffs.filter((o) => o.document === 'TERMLY_REPORT' && o.current && o.signedBy === 'Ruth Clarke');
    assert.equal(mine.length, 1, JSON.stringify(signed.school.signOffs));
    const report = signed.school.termlyReports.find((r) => r.academicYear === mine[0].academicYear && r.term === mine[0].term);
    assert.equal(mine[0].reportVersion, report.version, 'the latest version is signed off');
    assert.equal(mine[0].role, 'SEN_GOVERNOR');

    await page.getByRole('link', { name: 'Governor pack' }).click();
    await page.getByRole('heading', { level: 1, name: /^Governor pack: / }).waitFor();
    const pack = await page.locator('article.pack').innerText();
    assert.match(pack, new RegExp(`\\(version ${mine[0].reportVersion}\\) was signed off on .* by Ruth Clarke`));
    assert.ok(pack.includes('Observe a speech and language group'), 'the open actions are in the pack');
    await axe(page, 'the governor pack');
    await ctx.close();
  });

  await check('keyboard only: sign in by pasting a token, reach the report form and the deadlines filter', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${base}/`);
    await page.keyboard.press('Tab'); // skip link
    await page.keyboard.press('Tab');
    // Tab until the token box has the focus, type the token, then Enter on the button.
    for (let i = 0; i < 10 && (await page.evaluate(() => document.activeElement?.id)) !== 'token'; i++) await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'token');
    await page.keyboard.insertText(la);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Camden' }).waitFor();
    for (let i = 0; i < 40 && (await page.evaluate(() => document.activeElement?.tagName)) !== 'SELECT'; i++) await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'deadline-status');
    await ctx.close();
  });

  await check('a phone-sized screen: nothing wider than the viewport; screenshot kept', async () => {
    const ctx = await browser.newContext({ viewport: { width: 375, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const page = await ctx.newPage();
    await page.goto(`${base}/#token=${la}`);
    await page.getByRole('heading', { level: 1, name: 'Camden' }).waitFor();
    await page.waitForLoadState('networkidle');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `the page is ${overflow}px wider than the phone`);
    await page.screenshot({ path: join(ARTIFACTS, 'la-phone.png'), fullPage: false });
    await ctx.close();
  });

  await check('the sign-in page passes axe-core, and signing out forgets the token', async () => {
    const ctx = await browser.newContext({ bypassCSP: true });
    const page = await ctx.newPage();
    await page.goto(`${base}/`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await axe(page, 'the sign-in page');
    await page.goto(`${base}/#token=${la}`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('senco.token')), null);
    await ctx.close();
  });

  assert.deepEqual(csp.filter((m) => /Content Security Policy/i.test(m)), [], 'no CSP violations');
} finally {
  server.stop();
}

await check('with SENCO_TRUSTED_DOCUMENTS_ONLY the console keeps working', async () => {
  const only = await startServer({ SENCO_TRUSTED_DOCUMENTS_ONLY: 'true' });
  try {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${only.base}/#token=${only.tokens['la:202:read']}`);
    await page.getByRole('heading', { level: 1, name: 'Camden' }).waitFor();
    await page.locator('section[aria-labelledby="deadlines"] tbody tr').first().waitFor();
    // Free text is refused for the same token.
    const r = await fetch(`${only.base}/graphql`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${only.tokens['la:202:read']}` },
      body: JSON.stringify({ query: '{ viewer { sub } }' }),
    });
    assert.equal(r.status, 403);
    await ctx.close();
  } finally {
    only.stop();
  }
});

await check('sign-in through a real OpenID Connect provider (authorization code with PKCE)', async () => {
  // The console's address must be known before the provider starts (its redirect URI).
  const port = await new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => res(p));
    });
  });
  const consoleUrl = `http://127.0.0.1:${port}/`;
  const idp = await startProvider({ clientId: 'senco-console', redirectUri: consoleUrl, audience: 'senco-oversight', grantable: 'la:202:read' });
  const srv = await startServer(
    { SENCO_OIDC_ISSUER: idp.issuer, SENCO_OIDC_CLIENT_ID: 'senco-console', SENCO_OIDC_SCOPES: 'la:202:read' },
    `127.0.0.1:${port}`,
  );
  try {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(consoleUrl);
    await page.getByRole('button', { name: /^Sign in with 127\.0\.0\.1:/ }).click();
    // The provider's own login and consent pages.
    await page.locator('input[name="login"]').fill('officer@camden.example');
    await page.locator('input[name="password"]').fill('any');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { level: 1, name: 'Camden' }).waitFor({ timeout: 20000 });
    assert.equal(new URL(page.url()).search, '', 'the code is removed from the address');
    const token = await page.evaluate(() => sessionStorage.getItem('senco.token'));
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
    assert.equal(claims.iss, idp.issuer);
    assert.equal(claims.aud, 'senco-oversight');
    assert.equal(claims.scope, 'la:202:read');
    assert.equal((await page.locator('.who').innerText()).includes('officer@camden.example'), true);
    // The provider's token works against the API like any other, and its scope holds.
    const me = await api(srv.base, token, '{ viewer { sub scopes } }');
    assert.deepEqual(me.viewer, { sub: 'officer@camden.example', scopes: ['la:202:read'] });
    await ctx.close();
  } finally {
    srv.stop();
    await idp.stop();
  }
});

await browser.close();
if (failures.length > 0) {
  console.log(`${failures.length} failed: ${failures.join('; ')}`);
  process.exit(1);
}
console.log('all console checks passed');
