/**
 * Caps through the `netcheck` command (issue 21, item 4): an absurd rate, a bad timeout
 * setting and an input over the row cap each exit 2 with a message naming the setting or the
 * cap, before anything is started.
 */
import { describe, expect, it } from 'vitest';
import { MAX_BATCH_ITEMS } from '../../domain/batch-pages.js';
import { runCli, sharedStackEnv } from './support.js';

const env = () => sharedStackEnv('caps-cli-never-polled');

describe('caps on the command line', () => {
  it('`netcheck worker` refuses --rate and NETCHECK_RATE_LIMIT outside 0.1–10,000 per second', async () => {
    for (const run of [
      runCli(['worker', '--rate', '20000'], { env: env() }),
      runCli(['worker'], { env: { ...env(), NETCHECK_RATE_LIMIT: '0.01' } }),
    ]) {
      const { code, stderr } = await run;
      expect(code).toBe(2);
      expect(stderr).toMatch(
        /NETCHECK_RATE_LIMIT must be a number of requests per second from 0\.1 to 10,000/,
      );
      expect(stderr).not.toMatch(/polling task queue/);
    }
  });

  it('`netcheck batch --bulk` refuses a --rate outside the bounds', async () => {
    const { code, stderr } = await runCli(
      ['batch', '-', '--op', 'sim-swap', '--bulk', '--rate', '50000', '--no-wait'],
      { env: env(), input: 'msisdn\n+447700900001\n' },
    );
    expect(code).toBe(2);
    expect(stderr).toMatch(/rateLimit must be a number of requests per second from 0\.1 to 10,000/);
  });

  it('a timeout setting that is not a duration exits 2 naming the variable', async () => {
    const check = await runCli(['check', '+447700900001', '--op', 'sim-swap'], {
      env: { ...env(), NETCHECK_CHECK_TIMEOUT: '3600' },
    });
    expect(check.code).toBe(2);
    expect(check.stderr).toMatch(/NETCHECK_CHECK_TIMEOUT must be a duration/);
    const batch = await runCli(['batch', '-', '--op', 'sim-swap', '--no-wait'], {
      env: { ...env(), NETCHECK_BATCH_TIMEOUT: 'a week' },
      input: 'msisdn\n+447700900001\n',
    });
    expect(batch.code).toBe(2);
    expect(batch.stderr).toMatch(/NETCHECK_BATCH_TIMEOUT must be a duration/);
  });

  it(`\`netcheck batch\` refuses more than ${MAX_BATCH_ITEMS} rows, naming the cap and how to split`, async () => {
    const { code, stdout, stderr } = await runCli(['batch', '-', '--op', 'sim-swap', '--no-wait'], {
      env: env(),
      input: '{"msisdn":"+447700900001"}\n'.repeat(MAX_BATCH_ITEMS + 1),
    });
    expect(code).toBe(2);
    expect(stderr).toMatch(/stdin has more than 1,000,000 rows, the most one batch takes: split it/);
    expect(stdout).toBe(''); // no batch id: nothing was started
  });
});
