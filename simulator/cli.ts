/**
 * Command line of the standalone simulator (`npm run simulator -- …`), reusable by a future
 * `netcheck simulator` command through `runSimulatorCli(argv)`.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomUUID,
  type KeyObject,
} from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadScenarioFile } from './scenarios.js';
import { startSimulator } from './start.js';
import type { FaultOptions, Simulator, SimulatorOptions } from './types.js';

export const USAGE = `Usage: npm run simulator -- [options]

  --port <n>                 listen port (default 9090; 0 = ephemeral)
  --host <addr>              listen address (default 127.0.0.1; anything beyond loopback
                             prints a warning: the admin endpoints have no authentication)
  --app-id <uuid>            Vonage application id the JWTs must carry
  --public-key-file <pem>    application public key (SPKI PEM); without it a key pair is
                             generated (or reused) under --state-dir and the private key path printed
  --state-dir <dir>          where a generated key and app id are kept (default .netcheck)
  --scenarios <file.json>    scenario file (numbers, defaults, scripted faults)
  --numeric-strings          bc-authorize answers expires_in / interval as strings
  --omit-interval            bc-authorize answers without interval
  --interval <s>             minimum seconds between polls (default 2)
  --expires-in <s>           auth_req_id lifetime (default 120)
  --pending-polls <n>        authorization_pending answers before the token (default 0)
  --token-expires-in <s>     access-token lifetime (default 900, as Vonage's)
  --no-network-application   every bc-authorize answers 400 "No Network Application
                             associated with Vonage Application" (an app not linked)
  --seed <n>                 seed of the fault PRNG (default 1)
  --latency-ms <n|min-max>   added latency, fixed or ranged
  --unavailable <share>      share of 503 answers (0-1)
  --too-many-requests <share> share of 429 answers (0-1)
  --retry-after <s>          Retry-After of 429 answers (default 1)
  --timeout <share>          share of requests left unanswered (a hang)
  --hang-ms <n>              how long such a request hangs before its connection is
                             destroyed (default: until the client gives up)
  --drop <share>             share of connections dropped
  --reset <share>            share of connections reset (TCP RST)
  --slow-down <share>        share of CIBA flows whose first on-time poll gets slow_down
  --echo                     a hostile provider: error answers quote the request's number
                             (several spellings), auth_req_id and credential back
  --rate-limit <n>           global requests per second
  --request-log <file>       JSON-lines request log (appended to)
  --state-file <file>        keep the CIBA state (auth_req_ids, access tokens) across a
                             restart: read at start, written on close
  --help                     this text`;

const OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  'app-id': { type: 'string' },
  'public-key-file': { type: 'string' },
  'state-dir': { type: 'string' },
  scenarios: { type: 'string' },
  'numeric-strings': { type: 'boolean' },
  'omit-interval': { type: 'boolean' },
  'no-network-application': { type: 'boolean' },
  interval: { type: 'string' },
  'expires-in': { type: 'string' },
  'pending-polls': { type: 'string' },
  'token-expires-in': { type: 'string' },
  seed: { type: 'string' },
  'latency-ms': { type: 'string' },
  unavailable: { type: 'string' },
  'too-many-requests': { type: 'string' },
  'retry-after': { type: 'string' },
  timeout: { type: 'string' },
  drop: { type: 'string' },
  reset: { type: 'string' },
  'hang-ms': { type: 'string' },
  'slow-down': { type: 'string' },
  echo: { type: 'boolean' },
  'state-file': { type: 'string' },
  'rate-limit': { type: 'string' },
  'request-log': { type: 'string' },
  help: { type: 'boolean' },
} as const;

export interface CliIo {
  /** Where the banner goes (default console.log). */
  log?: (line: string) => void;
  /** Where the warning about a non-loopback address goes (default console.error). */
  warn?: (line: string) => void;
  /** Close on SIGINT / SIGTERM (default true). */
  handleSignals?: boolean;
}

function num(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value))
    throw new Error(`--${flag} must be a number (got "${raw}")`);
  return value;
}

function latency(raw: string | undefined): number | [number, number] | undefined {
  if (raw === undefined) return undefined;
  const range = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(raw);
  if (range) return [Number(range[1]), Number(range[2])];
  return num('latency-ms', raw);
}

export interface KeySetup {
  publicKey: KeyObject | string;
  applicationId: string;
  privateKeyPath?: string;
}

/** Uses the given key, or generates / reuses a key pair and app id under the state dir. */
export async function keySetup(
  appId: string | undefined,
  publicKeyFile: string | undefined,
  stateDir: string,
): Promise<KeySetup> {
  if (publicKeyFile !== undefined) {
    if (appId === undefined) throw new Error('--app-id is required with --public-key-file');
    return { publicKey: await readFile(publicKeyFile, 'utf8'), applicationId: appId };
  }
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const privateKeyPath = resolve(join(stateDir, 'simulator-private-key.pem'));
  const appIdPath = join(stateDir, 'simulator-application-id');
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(await readFile(privateKeyPath, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    ({ privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 }));
    await writeFile(privateKeyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  }
  await chmod(privateKeyPath, 0o600);
  let applicationId = appId;
  if (applicationId === undefined) {
    try {
      applicationId = (await readFile(appIdPath, 'utf8')).trim();
    } catch {
      applicationId = randomUUID();
      await writeFile(appIdPath, `${applicationId}\n`);
    }
  }
  return { publicKey: createPublicKey(privateKey), applicationId, privateKeyPath };
}

/** Parses argv (without node and script), starts the simulator and prints where it listens. */
export async function runSimulatorCli(argv: string[], io: CliIo = {}): Promise<Simulator | undefined> {
  const log = io.log ?? ((line: string) => console.log(line));
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false });
  if (values.help) {
    log(USAGE);
    return undefined;
  }
  const faults: FaultOptions = {};
  const seed = num('seed', values.seed);
  if (seed !== undefined) faults.seed = seed;
  const latencyMs = latency(values['latency-ms']);
  if (latencyMs !== undefined) faults.latencyMs = latencyMs;
  for (const [flag, key] of [
    ['unavailable', 'unavailable'],
    ['too-many-requests', 'tooManyRequests'],
    ['timeout', 'timeout'],
    ['drop', 'drop'],
    ['reset', 'reset'],
    ['hang-ms', 'hangMs'],
    ['slow-down', 'slowDown'],
    ['retry-after', 'retryAfterSeconds'],
  ] as const) {
    const value = num(flag, values[flag]);
    if (value !== undefined) faults[key] = value;
  }
  if (values.echo) faults.echo = true;
  const port = num('port', values.port) ?? 9090;
  const numeric: Partial<
    Pick<SimulatorOptions, 'interval' | 'expiresIn' | 'pendingPolls' | 'tokenExpiresIn' | 'rateLimit'>
  > = {};
  for (const [flag, key] of [
    ['interval', 'interval'],
    ['expires-in', 'expiresIn'],
    ['pending-polls', 'pendingPolls'],
    ['token-expires-in', 'tokenExpiresIn'],
    ['rate-limit', 'rateLimit'],
  ] as const) {
    const value = num(flag, values[flag]);
    if (value !== undefined) numeric[key] = value;
  }
  // Every flag is checked before anything is written to disk.
  const scenarios = values.scenarios === undefined ? undefined : await loadScenarioFile(values.scenarios);
  const keys = await keySetup(
    values['app-id'],
    values['public-key-file'],
    values['state-dir'] ?? '.netcheck',
  );
  const options: SimulatorOptions = {
    host: values.host ?? '127.0.0.1',
    port,
    applicationId: keys.applicationId,
    publicKey: keys.publicKey,
    numericStrings: values['numeric-strings'] ?? false,
    omitInterval: values['omit-interval'] ?? false,
    noNetworkApplication: values['no-network-application'] ?? false,
    onWarning: io.warn ?? ((line: string) => console.error(line)),
    faults,
    ...numeric,
    ...(scenarios ? { scenarios } : {}),
    ...(values['request-log'] !== undefined ? { requestLog: values['request-log'] } : {}),
    ...(values['state-file'] !== undefined ? { stateFile: values['state-file'] } : {}),
  };

  const simulator = await startSimulator(options);
  log(`netcheck Vonage simulator listening on ${simulator.url}`);
  log(`  VONAGE_API_BASE_URL=${simulator.url}`);
  log(`  VONAGE_APPLICATION_ID=${keys.applicationId}`);
  if (keys.privateKeyPath) log(`  private key (generated, keep it out of git): ${keys.privateKeyPath}`);
  if (io.handleSignals ?? true) {
    const stop = (signal: NodeJS.Signals) => {
      log(`${signal}: closing the simulator`);
      simulator.close().catch((err: unknown) => {
        log(`close failed: ${String(err)}`);
        process.exitCode = 1;
      });
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  }
  return simulator;
}
