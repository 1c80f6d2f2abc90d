// The flows a person runs, in Debian's chromium driven by playwright-core, against the real
// server with a temporary data directory and a real git repository. Screenshots of every view
// go to $SCREENSHOT_DIR.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, existsSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set (run through ctest)`);
  return v;
};
const require = createRequire(join(env('UI_PACKAGE_DIR'), 'package.json'));
const { chromium } = require('playwright-core');

const shots = env('SCREENSHOT_DIR');
mkdirSync(shots, { recursive: true });
const root = mkdtempSync(join(tmpdir(), 'atelier-web-'));
const dataDir = join(root, 'data');
const repo = join(root, 'repo');
const profileDir = join(root, 'chromium-profile');
mkdirSync(dataDir);
mkdirSync(profileDir);

const git = (...args) => execFileSync('git', args, { cwd: repo, encoding: 'utf8' });

let server = null;
let port = 0;
let context = null;
let page = null;
const consoleErrors = [];

async function waitFor(fn, what, timeoutMs = 15000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function startServer(fixedPort = 0) {
  try {
    rmSync(join(dataDir, 'server-port'));
  } catch {}
  server = spawn(
    env('ATELIER_BINARY'),
    ['serve', '--port', String(fixedPort), '--data-dir', dataDir, '--modules-dir', env('ATELIER_MODULES_DIR')],
    {
      cwd: dataDir,
      env: { ...process.env, ATELIER_WEB_ROOT: env('ATELIER_WEB_UI_DIR'), SHELL: '/bin/bash', HOME: root },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const p = join(dataDir, 'server-port');
  port = await waitFor(() => existsSync(p) && Number(readFileSync(p, 'utf8')), 'the server port');
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/api/health`).catch(() => null))?.ok, 'health');
}

async function stopServer() {
  if (!server) return;
  const s = server;
  server = null;
  const exited = new Promise((r) => s.once('exit', r));
  s.kill('SIGTERM');
  await exited;
}

async function api(method, path, body) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const shot = (name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: false });

before(async () => {
  mkdirSync(repo);
  git('init', '-q', '-b', 'main');
  git('config', 'user.email', 'dev@example.com');
  git('config', 'user.name', 'Dev');
  writeFileSync(join(repo, 'README.md'), '# demo\n');
  writeFileSync(join(repo, 'app.js'), 'console.log("v1");\n');
  git('add', '.');
  git('commit', '-q', '-m', 'initial');
  await startServer();
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: env('CHROMIUM'),
    headless: true,
    viewport: { width: 1360, height: 860 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(20000);
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(`${page.url()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => consoleErrors.push(`${page.url()}: ${e.message}`));
});

after(async () => {
  await context?.close();
  await stopServer();
  rmSync(root, { recursive: true, force: true });
});

test('first page is small, fast and offers to create a project', async () => {
  const t0 = Date.now();
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.getByRole('heading', { name: 'Create your first project' }).waitFor();
  const mark = () => page.evaluate(() => performance.getEntriesByName('atelier:first-render')[0]?.startTime ?? -1);
  const cold = await mark();
  // Initial load budget: the compressed bytes of the scripts and styles the page loaded.
  const initial = await page.evaluate(() =>
    performance
      .getEntriesByType('resource')
      .filter((e) => /\.(js|css)$/.test(e.name))
      .map((e) => ({ name: e.name, size: e.encodedBodySize })),
  );
  const bytes = initial.reduce((a, e) => a + e.size, 0);
  console.log(`initial JS+CSS: ${(bytes / 1024).toFixed(1)} KB compressed in ${initial.length} files`);
  assert.ok(initial.length > 0);
  assert.ok(bytes < 250 * 1024, `initial JS+CSS ${bytes} bytes`);
  // Again with the hashed assets in the browser cache, as every later visit is.
  await page.reload();
  await page.getByRole('heading', { name: 'Create your first project' }).waitFor();
  const firstRender = await mark();
  console.log(`first meaningful render: ${cold.toFixed(0)} ms cold, ${firstRender.toFixed(0)} ms warm (from navigation start; ${Date.now() - t0} ms wall for both)`);
  assert.ok(cold > 0 && firstRender > 0);
  assert.ok(firstRender < 3000, `first render took ${firstRender} ms`);
  await shot('01-overview-empty');
});

test('create a project, a worktree, start its dev server and read its log', async () => {
  await page.getByLabel('Name').fill('Demo');
  await page.getByLabel('Repository path').fill(repo);
  await page.getByRole('button', { name: 'Create project' }).click();
  await page.getByRole('heading', { name: 'Demo' }).waitFor();
  const project = (await api('GET', '/api/projects')).find((p) => p.name === 'Demo');
  assert.ok(project, 'the project exists on the server');
  await api('PATCH', `/api/config?project=${project.id}`, {
    startCommand: 'echo "devserver-ready on port $PORT"; exec python3 -m http.server "$PORT" --bind 127.0.0.1',
  });

  await page.getByLabel('New worktree branch').fill('feature-x');
  await page.getByRole('button', { name: 'Create worktree' }).click();
  const row = page.locator('tr', { hasText: 'feature-x' }).first();
  await row.waitFor();
  await row.getByRole('button', { name: 'Start' }).click();
  await page.locator('pre.log', { hasText: 'devserver-ready on port' }).waitFor();
  await row.locator('.badge', { hasText: /running|starting/ }).waitFor();
  await shot('02-overview-devserver');
  assert.match(git('branch', '--list', 'feature-x'), /feature-x/);
  await row.getByRole('button', { name: 'Stop' }).click();
  await row.locator('.badge', { hasText: 'stopped' }).waitFor();
});

test('a terminal in the worktree echoes what is typed', async () => {
  const row = page.locator('tr', { hasText: 'feature-x' }).first();
  await row.getByRole('button', { name: 'Terminal' }).click();
  const term = page.locator('.term[data-state="open"]');
  await term.waitFor();
  await page.locator('.xterm-helper-textarea').focus();
  await page.keyboard.type('echo hi-from-$((40+2))');
  await page.keyboard.press('Enter');
  await waitFor(
    async () => (await page.locator('.xterm-rows > div').allInnerTexts()).some((t) => t.trim() === 'hi-from-42'),
    'the echo output',
  );
  await shot('03-terminal');
});

test('a mock run streams its events live, shows its diff and commits', async () => {
  await page.goto(`http://127.0.0.1:${port}/#/settings`);
  await page.getByLabel('Agent name').fill('Mock agent');
  await page.getByLabel('Backend').selectOption('mock');
  await page.getByRole('button', { name: 'Add agent' }).click();
  await page.locator('table[aria-label="Agents"] tr', { hasText: 'Mock agent' }).waitFor();
  await shot('04-settings');

  await page.goto(`http://127.0.0.1:${port}/#/runs`);
  await page.getByLabel('Task').fill(
    ['Update the greeting', 'emit: Looking at app.js', 'sleep: 400', 'write: app.js=console.log("v2");\\n', 'tool: Bash ls', 'sleep: 400', 'emit: Changed the greeting'].join('\n'),
  );
  await page.getByRole('button', { name: 'Start run' }).click();
  await page.waitForURL(/#\/runs\/[0-9a-f-]+/);
  await page.locator('[data-event-type="agent.message"]', { hasText: 'Looking at app.js' }).waitFor();
  // The second message comes after the page is open: it arrived live.
  await page.locator('[data-event-type="agent.message"]', { hasText: 'Changed the greeting' }).waitFor();
  await page.locator('[data-event-type="agent.tool_call"]', { hasText: 'Bash' }).first().waitFor();
  await page.locator('.badge', { hasText: 'completed' }).waitFor();
  await shot('05-run-events');

  await page.getByRole('tab', { name: 'Changes' }).click();
  await page.getByRole('button', { name: /app\.js/ }).waitFor();
  await page.locator('.sbs .code.del-bg', { hasText: 'console.log("v1");' }).waitFor();
  await page.locator('.sbs .code.add-bg', { hasText: 'console.log("v2");' }).waitFor();
  await shot('06-run-diff');
  await page.getByLabel('Commit message').fill('Greeting v2 from the web UI');
  await page.getByRole('button', { name: 'Commit' }).click();
  await page.locator('.banner.ok', { hasText: 'Committed' }).waitFor();
  const log = git('log', '--all', '--format=%s');
  assert.match(log, /Greeting v2 from the web UI/);
});

test('tickets: search, open, comment with a mention', async () => {
  const project = (await api('GET', '/api/projects')).find((p) => p.name === 'Demo');
  await api('POST', '/api/profiles', { id: 'seed-user', name: 'Seeder', type: 'user' });
  const titles = ['Login page crashes on submit', 'Add dark theme', 'Flaky upload test', 'Document the CLI'];
  for (const title of titles) await api('POST', '/api/tickets', { project_id: project.id, title, author_id: 'seed-user' });
  // Enough rows to need the virtual list.
  const bulk = Array.from({ length: 400 }, (_, i) => i);
  for (let i = 0; i < bulk.length; i += 20)
    await Promise.all(
      bulk.slice(i, i + 20).map((n) => api('POST', '/api/tickets', { project_id: project.id, title: `Backlog item ${n}`, author_id: 'seed-user' })),
    );

  await page.goto(`http://127.0.0.1:${port}/#/tickets`);
  await page.locator('.ticket-row').first().waitFor();
  const rendered = await page.locator('.ticket-row').count();
  assert.ok(rendered < 80, `virtual list renders ${rendered} rows`);
  // Scrolling to the end loads the next pages until the oldest ticket shows, with the number
  // of rows in the DOM staying small.
  await waitFor(async () => {
    await page.locator('.vlist').evaluate((el) => (el.scrollTop = el.scrollHeight));
    return (await page.locator('.ticket-row', { hasText: 'Login page crashes on submit' }).count()) > 0;
  }, 'the last page of tickets', 30000);
  assert.equal(await page.locator('.vlist').getAttribute('aria-rowcount'), '404');
  const renderedAtEnd = await page.locator('.ticket-row').count();
  assert.ok(renderedAtEnd < 80, `virtual list renders ${renderedAtEnd} rows at the end`);
  await shot('07-tickets');

  await page.getByLabel('Search tickets').fill('crashes');
  await waitFor(async () => (await page.locator('.ticket-row').count()) === 1, 'one search hit');
  await page.locator('.ticket-row', { hasText: 'Login page crashes on submit' }).click();
  await page.getByRole('heading', { name: /Login page crashes/ }).waitFor();
  await page.getByLabel('Comment').fill('Same root cause as #2, see there.');
  await page.getByRole('button', { name: 'Comment' }).click();
  await page.locator('.tl-comment', { hasText: 'Same root cause as' }).waitFor();
  await page.locator('.tl-comment a[href="#/tickets/2"]').waitFor();
  await shot('08-ticket-timeline');
});

test('activity and logs load, and the page survives a server restart', async () => {
  await page.goto(`http://127.0.0.1:${port}/#/activity`);
  await page.getByRole('heading', { name: 'Operations log' }).waitFor();
  await waitFor(async () => (await page.locator('ol[aria-label="Operations log"] li').count()) > 0, 'ops log entries');
  await shot('09-activity');

  await page.locator('.conn', { hasText: 'Live' }).waitFor();
  const fixed = port;
  await stopServer();
  await page.locator('.conn', { hasText: 'Reconnecting' }).waitFor();
  await startServer(fixed);
  await page.locator('.conn', { hasText: 'Live' }).waitFor({ timeout: 30000 });
  // A change made after the restart reaches the page through the reconnected stream.
  await api('POST', '/api/logs', { level: 'info', source: 'web-test', message: 'after-restart-marker' });
  await page.locator('ol[aria-label="Operations log"] li', { hasText: 'after-restart-marker' }).waitFor();
  await page.goto(`http://127.0.0.1:${port}/#/overview`);
  await page.locator('tr', { hasText: 'feature-x' }).first().waitFor();
  // The views of every module are back (the module list was read again after the restart).
  await page.locator('nav a[href="#/runs"]').waitFor();
  await page.getByRole('heading', { name: 'Runs in flight' }).waitFor();
  await shot('10-overview-after-restart');
});

test('keyboard navigation and the dark theme', async () => {
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('g');
  await page.keyboard.press('i');
  await waitFor(async () => (await page.evaluate(() => location.hash)) === '#/tickets', 'g i to open the tickets');
  await page.getByLabel('Search tickets').waitFor();
  await page.keyboard.press('/');
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Search tickets');
  await page.emulateMedia({ colorScheme: 'dark' });
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.equal(bg, 'rgb(15, 17, 21)');
  await page.goto(`http://127.0.0.1:${port}/#/overview`);
  await page.locator('tr', { hasText: 'feature-x' }).first().waitFor();
  await shot('12-overview-dark');
  await page.emulateMedia({ colorScheme: 'light' });
});

test('events reach the page quickly with 20 runs streaming', async () => {
  const project = (await api('GET', '/api/projects')).find((p) => p.name === 'Demo');
  const agent = (await api('GET', '/api/agents')).find((a) => a.name === 'Mock agent');
  const lines = [];
  for (let i = 0; i < 40; i++) lines.push(`emit: tick ${i}`, 'sleep: 60');
  const task = ['Stream ticks', ...lines].join('\n');
  const runs = [];
  for (let i = 0; i < 20; i++) runs.push(await api('POST', '/api/runs', { agent_id: agent.id, task, project_id: project.id }));
  const watched = runs[runs.length - 1];
  await page.goto(`http://127.0.0.1:${port}/#/runs/${watched.id}`);
  await page.locator('ol.events').waitFor();
  // Arrival time of every message row added from now on, against the event's own timestamp.
  await page.evaluate(() => {
    window.__arrivals = [];
    new MutationObserver((records) => {
      const now = Date.now();
      for (const r of records)
        for (const n of r.addedNodes)
          if (n.dataset?.eventType === 'agent.message') window.__arrivals.push(now - Date.parse(n.dataset.created));
    }).observe(document.querySelector('ol.events'), { childList: true });
  });
  await page.locator('[data-event-type="agent.message"]', { hasText: 'tick 39' }).waitFor({ timeout: 60000 });
  const lat = (await page.evaluate(() => window.__arrivals)).sort((a, b) => a - b);
  assert.ok(lat.length >= 10, `only ${lat.length} live messages observed`);
  const pct = (q) => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))];
  console.log(`stream-to-DOM latency over ${lat.length} live messages with 20 runs streaming: p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms, max ${lat[lat.length - 1]} ms`);
  assert.ok(pct(0.99) < 1000, `p99 ${pct(0.99)} ms`);
  for (const r of runs) await waitFor(async () => ['completed', 'failed'].includes((await api('GET', `/api/runs/${r.id}`)).status), `run ${r.id} to finish`, 60000);
  await shot('11-run-streaming');
});

test('no console errors on any page', () => {
  // Connection failures while the server was down are the browser reporting the restart.
  const real = consoleErrors.filter((e) => !/ERR_CONNECTION_REFUSED|ERR_CONNECTION_RESET|ERR_EMPTY_RESPONSE|WebSocket connection to/.test(e));
  assert.deepEqual(real, []);
});
