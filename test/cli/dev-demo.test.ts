/**
 * `netcheck dev` and `netcheck demo` as subprocesses, each with its own embedded stack (its own
 * Temporal dev server with the UI, simulator and worker) on free ports and a temporary state
 * folder: the printed environment works from "another shell", runs survive a restart, Ctrl-C
 * stops every part, and the demo runs to completion with exit 0, showing each road only with
 * numbers Vonage's Virtual Operator answers the same way on it.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_EXPECTED, DEMO_ITEMS } from '../../cli/commands/demo.js';
import { IDENTITY_INSIGHTS_VIRTUAL_NUMBERS } from '../../simulator/virtual-operator.js';
import { eventually, exportedEnv, runCli, Running, spawnCli } from './support.js';

const FREE_PORTS = ['--port', '0', '--ui-port', '0', '--simulator-port', '0'];

function listening(address: string): Promise<boolean> {
  const [host, port] = address.replace(/^https?:\/\//, '').split(':');
  return new Promise((resolve) => {
    const socket = net.connect({ host: host!, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function startDev(
  stateDir: string,
): Promise<{ dev: Running; env: Record<string, string>; uiUrl: string }> {
  const dev = new Running(spawnCli(['dev', ...FREE_PORTS, '--state-dir', stateDir]));
  await dev.waitFor(/Ctrl-C stops everything/, 90_000);
  const uiUrl = /Temporal UI\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(dev.stdout)![1]!;
  return { dev, env: exportedEnv(dev.stdout), uiUrl };
}

describe('netcheck dev', () => {
  it('serves checks from another shell, keeps runs across a restart, refuses a second stack, and stops on Ctrl-C', async () => {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'netcheck-dev-'));
    const first = await startDev(stateDir);
    let workflowId: string;
    try {
      const { env, uiUrl } = first;
      expect(Object.keys(env).sort()).toEqual([
        'NETCHECK_ENCRYPTION_KEYS_FILE',
        'NETCHECK_SUBJECT_KEY',
        'NETCHECK_TASK_QUEUE',
        'TEMPORAL_ADDRESS',
        'TEMPORAL_NAMESPACE',
        'VONAGE_API_BASE_URL',
        'VONAGE_APPLICATION_ID',
        'VONAGE_PRIVATE_KEY_PATH',
      ]);
      expect(env.VONAGE_PRIVATE_KEY_PATH).toBe(path.join(stateDir, 'simulator-private-key.pem'));
      expect(first.dev.stdout).toContain(`source ${path.join(stateDir, 'dev', 'env.sh')}`);
      // Payloads are encrypted with a key made under the state dir, and the UI decodes through the codec server.
      expect(env.NETCHECK_ENCRYPTION_KEYS_FILE).toBe(path.join(stateDir, 'encryption-keys'));
      expect(first.dev.stdout).toMatch(/Encryption\s+payloads encrypted .* — generated now/);
      expect(first.dev.stdout).toMatch(/Codec server\s+http:\/\/127\.0\.0\.1:\d+/);
      expect((await fetch(`${uiUrl}/namespaces/default/workflows`)).status).toBe(200);

      // "Another shell": only the printed environment.
      const check = await runCli(['check', '+99012345622', '--op', 'device-roaming'], { env });
      expect(check.stdout).toMatch(/device-roaming: ok — roaming in 262 \(DE\)/);
      expect(check.code).toBe(0);
      workflowId = /workflow (\S+)/.exec(check.stderr)![1]!;

      // One stack per state folder.
      const second = await runCli(['dev', ...FREE_PORTS, '--state-dir', stateDir]);
      expect(second.code).toBe(2);
      expect(second.stderr).toMatch(
        /A netcheck stack already runs from .*\(pid \d+, Temporal 127\.0\.0\.1:\d+/,
      );
    } finally {
      expect(await first.dev.stop('SIGINT')).toBe(0);
    }
    expect(first.dev.stderr).toMatch(
      /SIGINT: stopping the worker, the simulator and the Temporal dev server/,
    );
    expect(await listening(first.env.TEMPORAL_ADDRESS!)).toBe(false);
    expect(await listening(first.uiUrl)).toBe(false);
    expect(await listening(first.env.VONAGE_API_BASE_URL!)).toBe(false);
    expect(existsSync(path.join(stateDir, 'dev', 'stack.json'))).toBe(false);
    expect(existsSync(path.join(stateDir, 'dev', 'temporal.db'))).toBe(true);

    // Restarted on the same state: same test application, and the earlier run is still there.
    const again = await startDev(stateDir);
    try {
      expect(again.env.VONAGE_APPLICATION_ID).toBe(first.env.VONAGE_APPLICATION_ID);
      expect(again.env.NETCHECK_SUBJECT_KEY).toBe(first.env.NETCHECK_SUBJECT_KEY);
      expect(again.dev.stdout).not.toMatch(/generated now/); // the same key: earlier runs still decode
      const found = await eventually(async () => {
        const run = await runCli(['find', '+99012345622', '--json'], { env: again.env });
        const runs = (JSON.parse(run.stdout) as { runs: Array<{ workflowId: string; status: string }> }).runs;
        return runs.find((r) => r.workflowId === workflowId);
      });
      expect(found.status).toBe('COMPLETED');
    } finally {
      expect(await again.dev.stop('SIGTERM')).toBe(0);
    }
  }, 180_000);

  it('an explicit busy port is a usage error (exit 2)', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const busy = (server.address() as net.AddressInfo).port;
    try {
      const stateDir = mkdtempSync(path.join(os.tmpdir(), 'netcheck-dev-'));
      const run = await runCli([
        'dev',
        '--port',
        String(busy),
        '--ui-port',
        '0',
        '--simulator-port',
        '0',
        '--state-dir',
        stateDir,
      ]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(
        new RegExp(`--port ${busy}: port ${busy} is in use; choose another \\(0 = any free port\\)`),
      );
    } finally {
      server.close();
    }
  });
});

describe('netcheck demo', () => {
  it('shows each road with what Vonage serves on it today, and only numbers its Virtual Operator answers the same way', () => {
    for (const item of DEMO_ITEMS) {
      const operations = item.operations as string[];
      if (item.api === 'camara') {
        // Vonage retired SIM Swap over CIBA (2025-11-23): the CIBA road shows Device Status only.
        expect(
          operations.every((op) => op.startsWith('device-')),
          item.ref,
        ).toBe(true);
      } else {
        expect(item.api, item.ref).toBe('identity-insights');
        // Identity Insights' Virtual Operator answers ten numbers; one row shows what any other +990 gets.
        if (item.ref === 'ii-not-virtual') {
          expect(IDENTITY_INSIGHTS_VIRTUAL_NUMBERS).not.toContain(item.msisdn);
          expect(DEMO_EXPECTED[`${item.ref}/sim-swap`]?.says).toBe('failed INVALID_INPUT');
        } else {
          expect(IDENTITY_INSIGHTS_VIRTUAL_NUMBERS, item.ref).toContain(item.msisdn);
        }
      }
    }
  });

  it('runs the sample batch over both roads on its own stack, prints the table and the UI link, and exits 0', async () => {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'netcheck-demo-'));
    const run = await runCli(['demo', ...FREE_PORTS, '--state-dir', stateDir], { timeoutMs: 150_000 });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const rows = run.stdout
      .split('\n')
      .filter((l) =>
        /^\S+\s+\+99\S*\s+(sim-swap|sim-swap-date|device-\w+|carrier)\s+(camara|identity-insights)\s/.test(l),
      );
    expect(rows).toHaveLength(Object.keys(DEMO_EXPECTED).length);
    expect(rows.every((r) => r.trimEnd().endsWith('yes'))).toBe(true);
    // Device Status over CIBA (the Playground), SIM swap over Identity Insights.
    expect(run.stdout).toMatch(/roaming-gb\s+\+9902345600\s+device-roaming\s+camara\s+ok\s/);
    expect(run.stdout).toMatch(/roaming-de\s+\+9902345622\s+device-roaming\s+camara\s+ok\s/);
    expect(run.stdout).toMatch(/ii-swap\s+\+990123400\s+sim-swap\s+identity-insights\s+ok\s/);
    expect(run.stdout).toMatch(/ii-swap\s+\+990123400\s+sim-swap-date\s+identity-insights\s+ok\s/);
    expect(run.stdout).toMatch(
      /ii-unknown\s+\+990123499\s+sim-swap\s+identity-insights\s+failed\s+UNKNOWN_NUMBER/,
    );
    expect(run.stdout).toMatch(
      /ii-not-virtual\s+\+9902345601\s+sim-swap\s+identity-insights\s+failed\s+INVALID_INPUT/,
    );
    expect(run.stdout).toMatch(/typo\s+\S+\s+device-roaming\s+camara\s+invalid\s+INVALID_INPUT/);
    expect(run.stdout).not.toMatch(/sim-swap\S*\s+camara/);
    expect(run.stdout).toMatch(/every one as designed/);
    expect(run.stderr).toMatch(
      /payloads encrypted \(AES-256-GCM, key "k\d{8}"\) .*encryption-keys — generated now/,
    );
    const link =
      /The batch in the Temporal UI:\s+(http:\/\/127\.0\.0\.1:(\d+)\/namespaces\/default\/workflows\/(demo-\d{8}-\d{6}))/.exec(
        run.stdout,
      );
    expect(link).not.toBeNull();
    expect(run.stdout).toContain(`query=${encodeURIComponent(`NetcheckBatchId = "${link![3]}"`)}`);
    // The stack is gone when the demo has exited.
    expect(await listening(`127.0.0.1:${link![2]}`)).toBe(false);
    expect(existsSync(path.join(stateDir, 'demo', 'stack.json'))).toBe(false);
  }, 180_000);
});
