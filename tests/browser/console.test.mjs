// Console and open data portal in headless Chromium: a newcomer logs in as the demo
// admin, registers a department, creates a user in it, issues an API token, and finds
// each action in the audit trail; the English switch works; a wrong password is
// refused; a share request goes from submission to first call. On the portal a
// visitor searches, opens and downloads a dataset, applies for a conditional one
// and accepts the agreement, and reports an error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const root = resolve(import.meta.dirname, '..', '..');
const binary = process.env.GONGSHU_BIN || join(root, 'target', 'debug', 'gongshu');
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

let dataDir, server, baseUrl, browser, adminPassword;
/** Demo logins printed by `gongshu demo`: username → password. */
const passwords = new Map();
/** The demo's sample call: resource code and a citizen ID in its household register. */
let demoCall;

function seed() {
  const out = spawnSync(binary, ['--data-dir', dataDir, 'demo', '--seed-only', '--people', '20', '--data-people', '500', '--data-entities', '100'], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  for (const line of out.stdout.split('\n')) {
    const [user, password] = line.trim().split(/\s+/);
    if (user && password && /^[a-z][a-z0-9.]*$/.test(user)) passwords.set(user, password);
  }
  assert.ok(passwords.has('admin'), 'demo prints the admin login');
  const curl = out.stdout.match(/\/api\/v1\/services\/([^/\s]+)\/records\/(\S+)/);
  assert.ok(curl, 'demo prints a curl line for its consumer system');
  demoCall = { resource: curl[1], key: curl[2] };
  return passwords.get('admin');
}

function startServer() {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(binary, ['--data-dir', dataDir, 'serve', '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buffer = '';
    const timer = setTimeout(() => reject(new Error('server did not start: ' + buffer)), 30000);
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      const m = buffer.match(/http:\/\/(127\.0\.0\.1:\d+)/);
      if (m) {
        clearTimeout(timer);
        resolvePromise({ child, url: `http://${m[1]}` });
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}: ${buffer}`)));
  });
}

before(async () => {
  assert.ok(existsSync(binary), `build the binary first (cargo build): ${binary}`);
  dataDir = mkdtempSync(join(tmpdir(), 'gongshu-browser-'));
  adminPassword = seed();
  ({ child: server, url: baseUrl } = await startServer());
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  if (browser) await browser.close();
  if (server) server.kill('SIGTERM');
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function login(page, username, password) {
  await page.goto(`${baseUrl}/login`);
  await page.fill('#username', username);
  await page.fill('#password', password);
  await page.click('#login-submit');
}

test('sec_3 wrong password is refused with a Chinese message', async () => {
  const page = await browser.newPage();
  await login(page, 'admin', 'not-the-password');
  const text = await page.textContent('#login-error');
  assert.match(text, /用户名或密码错误/);
  await page.close();
});

test('newcomer flow: department, user, token, each in the audit trail', async () => {
  const page = await browser.newPage();
  await login(page, 'admin', adminPassword);
  await page.waitForURL(`${baseUrl}/`);
  assert.match(await page.textContent('#whoami'), /admin/);

  await page.goto(`${baseUrl}/orgs`);
  await page.fill('#org-name', '云川市浏览器测试局');
  await page.fill('#org-name-en', 'Browser Test Bureau');
  await page.selectOption('#org-kind', 'government_department');
  await page.selectOption('#org-division', '830100');
  await page.click('#create-org-submit');
  await page.waitForSelector('#done');
  assert.equal((await page.textContent('#org-name')).trim(), '云川市浏览器测试局');
  const orgId = page.url().split('/orgs/')[1].split('?')[0];

  await page.goto(`${baseUrl}/users?org_id=${orgId}`);
  await page.selectOption('#user-org', orgId);
  await page.fill('#user-username', 'browser.admin');
  await page.fill('#user-name', '浏览器 管理员');
  await page.selectOption('#user-role', 'org_admin');
  await page.click('#create-user-submit');
  assert.equal((await page.textContent('#created-username')).trim(), 'browser.admin');
  const generated = (await page.textContent('#secret')).trim();
  assert.ok(generated.length >= 12, 'a generated password is shown once');

  await page.goto(`${baseUrl}/tokens`);
  await page.selectOption('#token-org', orgId);
  await page.fill('#token-name', '业务系统A');
  await page.check('#perm-org-read');
  await page.click('#create-token-submit');
  const secret = (await page.textContent('#secret')).trim();
  assert.match(secret, /^gs_[A-Za-z0-9]{40}$/);

  const response = await page.request.get(`${baseUrl}/api/v1/orgs/${orgId}`, { headers: { Authorization: `Bearer ${secret}` } });
  assert.equal(response.status(), 200, 'the issued token works against the API');

  await page.goto(`${baseUrl}/audit`);
  const actions = await page.$$eval('#audit-table td.action', (cells) => cells.map((c) => c.textContent.trim()));
  for (const action of ['org.create', 'user.create', 'token.create', 'auth.login']) {
    assert.ok(actions.includes(action), `audit trail shows ${action}: ${actions.slice(0, 10)}`);
  }
  await page.screenshot({ path: join(dataDir, 'audit.png') });
  await page.close();
});

test('gov_5 auditor verifies the chain from the console', async () => {
  const reset = spawnSync(binary, ['--data-dir', dataDir, 'user', 'reset-password', 'auditor'], { encoding: 'utf8' });
  assert.equal(reset.status, 0, reset.stderr);
  const password = reset.stdout.trim().split(/\s+/).pop();
  const page = await browser.newPage();
  await login(page, 'auditor', password);
  await page.goto(`${baseUrl}/audit`);
  await page.click('#verify');
  assert.match(await page.textContent('#verify-result'), /审计链完整/);
  await page.close();
});

test('sec_3 a member sees no console links it may not use, and the pages refuse it', async () => {
  const reset = spawnSync(binary, ['--data-dir', dataDir, 'user', 'reset-password', 'developer'], { encoding: 'utf8' });
  assert.equal(reset.status, 0, reset.stderr);
  const password = reset.stdout.trim().split(/\s+/).pop();
  const page = await browser.newPage();
  await login(page, 'developer', password);
  await page.waitForURL(`${baseUrl}/`);
  for (const href of ['/audit', '/users', '/tokens']) {
    assert.equal(await page.locator(`nav a[href="${href}"]`).count(), 0, `no link to ${href}`);
  }
  assert.equal(await page.locator('nav a[href="/orgs"]').count(), 1);
  const denied = await page.goto(`${baseUrl}/audit`);
  assert.equal(denied.status(), 403);
  await page.close();
});

test('english switch renders the console in English', async () => {
  const page = await browser.newPage();
  await page.goto(`${baseUrl}/login`);
  await page.goto(`${baseUrl}/lang/en?next=/login`);
  assert.equal((await page.textContent('#login-submit')).trim(), 'Log in');
  await page.close();
});

test('cat_2 registrar registers an entry, the department reviewer passes it, the authority publishes it', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await login(page, 'psb.registrar', passwords.get('psb.registrar'));
  await page.click('#nav-catalog');
  await page.click('#new-entry');
  await page.fill('#e-name', '浏览器测试户籍信息');
  await page.fill('#e-summary', '由浏览器测试登记的业务目录');
  await page.selectOption('#e-domain', 'population');
  await page.fill('#e-items', '公民身份号码 | citizen_id | string | 18 | 是 | citizen_id | GB 11643');
  await page.fill('#e-open-basis', '含个人信息');
  await page.selectOption('#e-open-reason', 'privacy_without_consent');
  // A conditional entry without its basis comes back with the errors and the input kept.
  await page.selectOption('#e-share-type', 'conditional');
  await page.click('#entry-submit');
  assert.match(await page.textContent('#form-errors'), /2 处/);
  assert.match(await page.textContent('.field-error[data-field="legal_basis"]'), /法律/);
  assert.equal(await page.inputValue('#e-name'), '浏览器测试户籍信息');
  await page.fill('#e-legal-basis', '《示范省公共数据条例》');
  await page.fill('#e-share-conditions', '仅限户籍业务');
  await page.click('#entry-submit');
  await page.waitForSelector('#done');
  const entryUrl = page.url().split('?')[0];
  await page.click('#review-submit');
  assert.match(await page.textContent('#entry-stage'), /待本部门审核/);
  await context.close();

  const reviewer = await (await browser.newContext()).newPage();
  await login(reviewer, 'psb.reviewer', passwords.get('psb.reviewer'));
  await reviewer.goto(entryUrl);
  await reviewer.click('#review-department-pass');
  assert.match(await reviewer.textContent('#entry-stage'), /待主管部门审核/);
  await reviewer.context().close();

  const authority = await (await browser.newContext()).newPage();
  await login(authority, 'authority', passwords.get('authority'));
  await authority.goto(entryUrl);
  await authority.click('#review-authority-approve');
  assert.match(await authority.textContent('#entry-status'), /已发布 v1/);
  const history = await authority.textContent('#history-table');
  for (const step of ['登记', '提交部门审核', '部门审核通过并报送', '主管部门审核通过并发布']) {
    assert.ok(history.includes(step), `history shows ${step}: ${history}`);
  }
  await authority.goto(`${baseUrl}/catalog?status=published&q=浏览器测试`);
  assert.match(await authority.textContent('#catalog-table'), /浏览器测试户籍信息/);
  await authority.context().close();
});

test('shr_5 a conditional request goes from the form to the consumer\'s first masked API call', async () => {
  // 民政局 issues a consumer token and files the request.
  const civil = await (await browser.newContext()).newPage();
  await login(civil, 'civil.admin', passwords.get('civil.admin'));
  await civil.goto(`${baseUrl}/tokens`);
  await civil.fill('#token-name', '浏览器测试业务系统');
  await civil.check('#perm-data-consume');
  await civil.click('#create-token-submit');
  const secret = (await civil.textContent('#secret')).trim();

  await civil.goto(`${baseUrl}/share`);
  await civil.click('#new-request');
  const resourceId = await civil.$eval('#r-resource', (select, code) =>
    [...select.options].find((o) => o.textContent.startsWith(code)).value, demoCall.resource);
  await civil.selectOption('#r-resource', resourceId);
  await civil.click('#choose-resource');
  for (const item of ['citizen_id', 'name', 'address']) await civil.check(`#item-${item}`);
  await civil.selectOption('#r-mode', 'api');
  await civil.selectOption('#r-token', { label: (await civil.$eval('#r-token', (s) =>
    [...s.options].find((o) => o.textContent.startsWith('浏览器测试业务系统')).textContent)) });
  await civil.fill('#r-purpose', '婚姻登记时核对当事人住址');
  await civil.fill('#r-scenario', '婚姻登记');
  await civil.fill('#r-legal-duty', '《婚姻登记条例》第七条');
  const end = new Date(Date.now() + 200 * 86400000).toISOString().slice(0, 10);
  await civil.fill('#r-end-date', end);
  // Without the signed commitment the form comes back with the choices kept.
  await civil.click('#submit-request');
  assert.match(await civil.textContent('#form-error'), /承诺/);
  assert.ok(await civil.isChecked('#item-address'), 'picked items are kept');
  await civil.check('#r-commitment');
  await civil.click('#submit-request');
  await civil.waitForSelector('#done');
  assert.equal(await civil.getAttribute('#request-status', 'data-status'), 'conformity_check');
  assert.match(await civil.textContent('#request-due'), /^\d{4}-\d{2}-\d{2}/);
  const requestPath = new URL(civil.url()).pathname;

  // The platform finds it in its queue and passes the conformity check.
  const admin = await (await browser.newContext()).newPage();
  await login(admin, 'admin', adminPassword);
  await admin.goto(`${baseUrl}/share`);
  assert.equal(await admin.locator(`#queue-table a[href="${requestPath}"]`).count(), 1, 'the request is in the platform queue');
  await admin.goto(`${baseUrl}${requestPath}`);
  await admin.click('#do-pass_conformity');
  await admin.waitForSelector('#done');
  assert.equal(await admin.getAttribute('#request-status', 'data-status'), 'source_review');

  // 公安局 sees the notice and approves.
  const psb = await (await browser.newContext()).newPage();
  await login(psb, 'psb.admin', passwords.get('psb.admin'));
  await psb.goto(`${baseUrl}/share`);
  assert.match(await psb.textContent('#notice-new'), /\d/);
  await psb.goto(`${baseUrl}${requestPath}`);
  await psb.click('#do-approve');
  await psb.waitForSelector('#done');
  assert.equal(await psb.getAttribute('#request-status', 'data-status'), 'approved');
  const grantId = (await psb.textContent('#grant-id')).trim();

  // The consumer's first call: only the granted items, masked, under that grant.
  const call = await psb.request.get(`${baseUrl}/api/v1/services/${demoCall.resource}/records/${demoCall.key}?grant=${grantId}`,
    { headers: { Authorization: `Bearer ${secret}` } });
  assert.equal(call.status(), 200, await call.text());
  const body = await call.json();
  assert.equal(body.grant_id, grantId);
  assert.deepEqual(Object.keys(body.rows[0]).sort(), ['address', 'citizen_id', 'name']);
  assert.match(body.rows[0].citizen_id, /^\d{6}\*{8}\d{3}[\dX]$/);
  assert.notEqual(body.rows[0].citizen_id, demoCall.key);

  // 公安局 sees that call in its access log, with the same response hash.
  await psb.goto(`${baseUrl}/share/access?resource=${demoCall.resource}&outcome=served`);
  const hashes = await psb.$$eval('#access-table tr.access-row td.mono.muted', (cells) => cells.map((c) => c.textContent.trim()));
  assert.ok(hashes.includes(body.response_hash.slice(0, 16)), `access log shows the call: ${hashes}`);
  for (const p of [civil, admin, psb]) await p.context().close();
});

/** Opens the first search result whose name contains `name`. */
async function openDataset(page, name) {
  await page.goto(`${baseUrl}/open/datasets?q=${encodeURIComponent(name)}`);
  await page.click(`a.dataset-name:has-text("${name}")`);
  await page.waitForSelector('#dataset-name');
}

test('opn_2 opn_3 a visitor searches, opens a dataset and downloads it without an account', async () => {
  const page = await (await browser.newContext({ acceptDownloads: true })).newPage();
  await openDataset(page, '公交线路');
  assert.match(await page.textContent('#dataset-name'), /公交线路/);
  assert.ok(await page.$('#preview'), 'unconditional data shows a preview');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-csv')]);
  assert.match(download.suggestedFilename(), /\.csv$/);
  const path = await download.path();
  const { readFileSync } = await import('node:fs');
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  assert.ok(lines.length > 2, `the CSV has a header and rows: ${lines.length}`);
  await page.context().close();
});

test('opn_4 a visitor applies for conditional data, is approved, accepts the agreement and downloads', async () => {
  const visitor = await (await browser.newContext({ acceptDownloads: true })).newPage();
  await openDataset(visitor, '门诊量统计');
  assert.ok(await visitor.$('#application-required'));
  await visitor.click('#apply-link');
  // No key yet: the portal asks for one and comes back.
  await visitor.waitForSelector('#key-form');
  await visitor.selectOption('#holder_kind', 'natural_person');
  await visitor.fill('#holder_name', '李四');
  await visitor.fill('#identity_number', '11010519491231002X');
  await visitor.fill('#contact', 'lisi@example.cn');
  await visitor.click('#key-submit');
  assert.match((await visitor.textContent('#issued-secret')).trim(), /^gk_[A-Za-z0-9]{40}$/);
  await visitor.click('#continue');
  await visitor.waitForSelector('#apply-form');
  await visitor.fill('#purpose', '门诊服务研究');
  await visitor.fill('#intended_use', '发表论文，仅含汇总结果');
  await visitor.click('#apply-submit');
  await visitor.waitForSelector('#done');
  assert.equal(await visitor.getAttribute('#application-status', 'data-status'), 'source_review');
  const applicationPath = new URL(visitor.url()).pathname;
  const id = applicationPath.split('/').pop();

  // The source department approves, then the authority concurs.
  for (const [user, expected] of [['health.admin', 'authority_review'], ['authority', 'awaiting_agreement']]) {
    const staff = await (await browser.newContext()).newPage();
    await login(staff, user, passwords.get(user));
    await staff.waitForURL(`${baseUrl}/`);
    await staff.goto(`${baseUrl}/open-applications`);
    await staff.click(`#application-${id} button[value="approve"]`);
    await staff.waitForSelector('#done');
    assert.match(await staff.textContent(`#application-${id} .application-status`), expected === 'authority_review' ? /主管部门会审中/ : /待签订利用协议/);
    await staff.context().close();
  }

  await visitor.goto(`${baseUrl}${applicationPath}`);
  assert.match(await visitor.textContent('#agreement-text'), /李四[\s\S]*门诊服务研究/);
  await visitor.check('#accept');
  await visitor.click('#accept-submit');
  await visitor.waitForSelector('#done');
  assert.equal(await visitor.getAttribute('#application-status', 'data-status'), 'active');
  assert.match(await visitor.textContent('#agreement-signed'), /李四/);
  const [download] = await Promise.all([visitor.waitForEvent('download'), visitor.click('#download-csv')]);
  assert.match(download.suggestedFilename(), /\.csv$/);
  await visitor.context().close();
});

test('opn_9 a visitor reports an error and gets a ticket to follow it', async () => {
  const page = await (await browser.newContext()).newPage();
  await openDataset(page, '公交线路');
  await page.selectOption('#report-kind', 'error');
  await page.fill('#report-description', '第 3 行的站点名称有误');
  await page.click('#report-submit');
  await page.waitForSelector('#received');
  const link = await page.getAttribute('#ticket-link', 'href');
  await page.goto(link.startsWith('http') ? link : `${baseUrl}${link}`);
  assert.match(await page.textContent('#feedback-status'), /待核实/);
  await page.context().close();
});
