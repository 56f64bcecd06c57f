/**
 * The Temporal Web UI in a real browser: an embedded stack of its own (dev server WITH the UI,
 * simulator, worker — cli/stack), a check and a small batch, then Debian's headless Chromium
 * (through playwright-core) finds the runs by search attribute and shows their summaries, the
 * live phase in the current details, the activity and timer summaries and the result.
 * Payloads are encrypted (the stack's key ring): the UI decodes them through the stack's codec
 * server (`--ui-codec-endpoint`), which in dev mode listens on loopback without authentication
 * and without any secret in its URL; without it, the same page shows only ciphertext.
 * Screenshots go to test-results/ui/ (git-ignored).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startBatch } from '../../client/batch.js';
import { startCheck, subjectOf } from '../../client/index.js';
import { startStack, workflowListUrl, workflowUrl, type Stack } from '../../cli/stack/stack.js';
import { projectRoot } from '../../cli/stack/temporal-cli.js';

const SHOTS = path.join(projectRoot, 'test-results', 'ui');

function findChromium(): string | undefined {
  for (const candidate of [process.env.CHROMIUM_PATH, '/usr/bin/chromium']) {
    if (candidate && existsSync(candidate)) return candidate;
  }
  try {
    return (
      execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], {
        encoding: 'utf8',
      }).trim() || undefined
    );
  } catch {
    return undefined;
  }
}

const chromiumPath = findChromium();
// CI installs Chromium (.ci/run); a developer without it gets a skip and a note, CI a failure.
if (!chromiumPath)
  console.warn('Chromium not found (apt-get install chromium, or set CHROMIUM_PATH): UI test skipped');

describe.skipIf(!chromiumPath && !process.env.CI)('the Temporal UI', () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  /** Requests the UI made to the codec server: method, path and namespace header. */
  const codecRequests: { method: string; path: string; namespace?: string }[] = [];
  let checkWorkflowId = '';
  const taskQueue = 'netcheck-ui';
  const msisdn = '+99012345601';

  beforeAll(async () => {
    if (!chromiumPath) throw new Error('Chromium is required in CI: apt-get install chromium');
    mkdirSync(SHOTS, { recursive: true });
    stack = await startStack({
      stateDir: mkdtempSync(path.join(os.tmpdir(), 'netcheck-ui-')),
      name: 'ui',
      ports: { temporal: 0, ui: 0, simulator: 0, codec: 0 },
      persist: false,
      taskQueue,
      // Pending polls keep the check running long enough to see its phase live.
      scenarios: { defaults: { interval: 1, expiresIn: 60 }, numbers: {} },
      // The stack encrypts: its worker needs the bundle with netcheck's encrypting converters.
      worker: { workflowBundle: { codePath: inject('encryptedWorkerBundlePath') } },
      log: () => {},
    });
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    page.on('request', (request) => {
      if (stack.codec && request.url().startsWith(stack.codec.url)) {
        const namespace = request.headers()['x-namespace'];
        codecRequests.push({
          method: request.method(),
          path: new URL(request.url()).pathname,
          ...(namespace !== undefined ? { namespace } : {}),
        });
      }
    });
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  /** The main area's text and that of its iframes (the UI renders summaries and details as markdown in iframes). */
  async function pageText(minFrames: number): Promise<string> {
    // Each markdown iframe loads on its own: wait (briefly) until every one has text.
    let frames: string[] = [];
    for (let i = 0; i < 40; i++) {
      const children = page.frames().filter((f) => f !== page.mainFrame());
      frames = await Promise.all(
        children.map((f) =>
          f
            .locator('body')
            .innerText({ timeout: 2_000 })
            .catch(() => ''),
        ),
      );
      if (frames.length >= minFrames && frames.every((t) => t.trim() !== '')) break;
      await page.waitForTimeout(150);
    }
    return [await page.locator('main').innerText({ timeout: 10_000 }), ...frames].join('\n');
  }

  /**
   * The text of the page (with its iframes), once `pattern` shows in it. Visibility, details and
   * decoding through the codec server lag, more so on a loaded machine: each load is read for a
   * few seconds (the UI fetches its data after the page's load event, and a list query can take
   * longer than a fixed pause), then the page is reloaded, until `timeoutMs`.
   */
  async function mainTextWith(pattern: RegExp, tab?: string, timeoutMs = 90_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let text = '';
    for (;;) {
      if (tab) await page.getByRole('tab', { name: tab }).click({ timeout: 10_000 });
      const settle = Math.min(Date.now() + 6_000, deadline);
      do {
        // The User Metadata tab has three markdown frames: summary, details, current details.
        text = await pageText(tab === 'User Metadata' ? 3 : 0);
        if (pattern.test(text)) return text;
        await page.waitForTimeout(500);
      } while (Date.now() < settle);
      if (Date.now() >= deadline) {
        writeFileSync(path.join(SHOTS, 'failure-page.txt'), `${page.url()}\n\n${text}`);
        await page.screenshot({ path: path.join(SHOTS, 'failure.png') });
        throw new Error(`${pattern} not on ${page.url()} in time; the page says:\n${text}`);
      }
      await page.reload({ waitUntil: 'load' });
    }
  }

  it('shows a check: summary, details, the live phase, step summaries and the result; found by NetcheckSubject', async () => {
    // Twelve pending answers: the check waits and polls for about 13 s.
    stack.simulator.addScenarios({
      numbers: { [msisdn]: { pendingPolls: 12, interval: 1, lastSimChangeHoursAgo: 500 } },
    });
    const handle = await startCheck(
      stack.client,
      { msisdn, operation: 'sim-swap', maxAge: 720 },
      { taskQueue, subjectKey: stack.subjectKey },
    );
    const subject = subjectOf(msisdn, stack.subjectKey);
    checkWorkflowId = handle.workflowId;

    // While it runs: the current details show where it is.
    await page.goto(workflowUrl(stack.uiUrl!, 'default', handle.workflowId), { waitUntil: 'load' });
    const running = await mainTextWith(/phase (authorizing|waiting|polling)/, 'User Metadata');
    expect(running).toMatch(/Running/);
    expect(running).toMatch(/sim-swap for \+99\*{6}601 — phase (waiting|polling)/);
    await page.screenshot({ path: path.join(SHOTS, 'check-running.png') });

    const result = await handle.result();
    expect(result).toMatchObject({ status: 'ok', data: { swapped: true } });

    // Done: summary, static details, final phase and the summary of every step.
    await page.reload({ waitUntil: 'load' });
    const done = await mainTextWith(/phase done/, 'User Metadata');
    expect(done).toMatch(/Completed/);
    expect(done).toMatch(/^sim-swap · camara · \+99\*{6}601$/m);
    expect(done).toMatch(/Operation: sim-swap/);
    expect(done).toMatch(/maxAge: 720 h/);
    expect(done).toContain(`Subject: ${subject}`);
    expect(done).toMatch(/authorization 1 of 2 · polls 13/);
    expect(done).toMatch(/bc-authorize \+99\*{6}601 for sim-swap \(1\/2\)/);
    // The polls of an authorization are one activity that waits the interval itself.
    expect(done).toMatch(/token polls from #1 for \+99\*{6}601/);
    expect(done).toMatch(/sim-swap check for \+99\*{6}601/);
    // Nowhere in the page: the number in the clear.
    expect(done).not.toContain(msisdn);
    await page.screenshot({ path: path.join(SHOTS, 'check-metadata.png') });

    // The result, on the history tab.
    const history = await mainTextWith(/"swapped": true/, 'History');
    expect(history).toMatch(/"status": "ok"/);
    // The result was decoded by the stack's codec server, which the UI called from the browser:
    // at <endpoint>/decode with the namespace, and no secret anywhere in the URL.
    const posts = codecRequests.filter((r) => r.method === 'POST');
    expect(posts.length).toBeGreaterThan(0);
    for (const r of posts) expect(r).toEqual({ method: 'POST', path: '/decode', namespace: 'default' });
    expect(stack.codec!.uiEndpoint).toBe(stack.codec!.url);
    // What the UI server hands to anyone who loads its settings: the endpoint, nothing secret in it.
    const settings = await (await fetch(`${stack.uiUrl!}/api/v1/settings`)).text();
    expect(settings).toContain(`"${stack.codec!.url}"`);
    // Decoded, the history holds the input as sent: who may use the codec sees the number.
    expect(history).toContain(`"msisdn": "${msisdn}"`);
    await page.screenshot({ path: path.join(SHOTS, 'check-history.png') });

    // The list, filtered by the subject hash in the URL's query.
    await page.goto(workflowListUrl(stack.uiUrl!, 'default', `NetcheckSubject="${subject}"`), {
      waitUntil: 'load',
    });
    const list = await mainTextWith(new RegExp(handle.workflowId.replace(/[-]/g, '\\-')));
    expect(list).toMatch(/networkCheck/);
    expect(list).toMatch(/1 Completed|Completed/);
    await page.screenshot({ path: path.join(SHOTS, 'list-by-subject.png') });
  }, 180_000);

  it('without the codec server, the same run shows only ciphertext', async () => {
    expect(checkWorkflowId).not.toBe('');
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    try {
      // The browser cannot reach the codec server: the UI falls back to the stored payloads.
      await context.route(`${stack.codec!.url}/**`, (route) => route.abort());
      const blind = await context.newPage();
      await blind.goto(workflowUrl(stack.uiUrl!, 'default', checkWorkflowId), { waitUntil: 'load' });
      let text = '';
      for (let i = 0; i < 40 && !/YmluYXJ5L2VuY3J5cHRlZA|binary\/encrypted/.test(text); i++) {
        await blind.getByRole('tab', { name: 'History' }).click({ timeout: 10_000 });
        await blind.waitForTimeout(500);
        text = await blind.locator('main').innerText({ timeout: 10_000 });
      }
      await blind.screenshot({ path: path.join(SHOTS, 'check-history-ciphertext.png') });
      expect(text).toMatch(/YmluYXJ5L2VuY3J5cHRlZA|binary\/encrypted/); // "binary/encrypted"
      expect(text).not.toMatch(/"swapped"/);
      expect(text).not.toContain(msisdn);
      expect(text).not.toContain(msisdn.slice(1));
    } finally {
      await context.close();
    }
  }, 180_000);

  it('shows a batch and its checks, found by NetcheckBatchId', async () => {
    const batchId = `ui-batch-${Date.now()}`;
    const batch = await startBatch(
      stack.client,
      [
        { msisdn: '+99012345622', operations: ['device-roaming', 'device-connectivity'], ref: 'de' },
        { msisdn: '+99012345699', operations: ['sim-swap'], ref: 'unknown' },
      ],
      { batchId, taskQueue, subjectKey: stack.subjectKey },
    );
    const summary = await batch.result();
    expect(summary).toMatchObject({ state: 'completed', total: 3, done: 3, byOutcome: { ok: 2, failed: 1 } });

    await page.goto(workflowListUrl(stack.uiUrl!, 'default', `NetcheckBatchId="${batchId}"`), {
      waitUntil: 'load',
    });
    const list = await mainTextWith(new RegExp(`${batchId}/1/sim-swap`));
    expect(list).toContain(`${batchId}/0/device-roaming`);
    expect(list).toContain(`${batchId}/0/device-connectivity`);
    expect(list).toMatch(/batchCheck/);
    await page.screenshot({ path: path.join(SHOTS, 'list-by-batch.png') });

    await page.goto(workflowUrl(stack.uiUrl!, 'default', batchId), { waitUntil: 'load' });
    const meta = await mainTextWith(/completed/, 'User Metadata');
    expect(meta).toMatch(new RegExp(`^netcheck batch ${batchId}$`, 'm'));
    expect(meta).toMatch(new RegExp(`Batch: ${batchId}`));
    expect(meta).toMatch(/done 3 \/ 3/);
    expect(meta).toMatch(/ok 2 · failed 1/);
    expect(meta).toMatch(/errors: UNKNOWN_NUMBER 1/);
    await page.screenshot({ path: path.join(SHOTS, 'batch-metadata.png') });

    // A check of the batch: its summary names the batch.
    await page.goto(workflowUrl(stack.uiUrl!, 'default', `${batchId}/1/sim-swap`), {
      waitUntil: 'load',
    });
    const child = await mainTextWith(/phase done/, 'User Metadata');
    expect(child).toMatch(new RegExp(`sim-swap · camara · \\+99\\*{6}699 · batch ${batchId} #1`));
    expect(child).toMatch(/Operation: sim-swap/);
    expect(child).toMatch(new RegExp(`Batch: ${batchId} · item 1`));
  }, 180_000);
});
