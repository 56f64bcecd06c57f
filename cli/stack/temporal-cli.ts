/**
 * Finds or builds the pinned Temporal CLI (v1.5.1) that runs the dev server for tests, the
 * benchmark and the embedded demo.
 *
 * Order: $TEMPORAL_CLI_PATH, then `temporal` on PATH, then <project>/.temporal/bin/temporal —
 * each only if it reports the pinned server version — else `go install` into .temporal/bin.
 * A `go install` build prints `temporal version 0.0.0-DEV (Server 1.29.1, UI 2.42.1)`: the CLI
 * release is not in it, so the check looks at the server version that v1.5.1 embeds.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { rawSetting, settingText } from '../../common/settings.js';
import { NetcheckError } from '../../domain/errors.js';

const execFileAsync = promisify(execFile);

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
/** What `temporal --version` of a v1.5.1 build contains. */
export const TEMPORAL_SERVER_MARKER = 'Server 1.29.1';

/** The folder of netcheck's package.json: `../..` from cli/stack/ as source, `../../..` from dist/cli/stack/. */
function findProjectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 3; i++) {
    dir = path.dirname(dir);
    if (existsSync(path.join(dir, 'package.json'))) return dir;
  }
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
}

export const projectRoot = findProjectRoot();
export const localBinDir = path.join(projectRoot, '.temporal', 'bin');
export const localBinary = path.join(localBinDir, 'temporal');

async function reportsPinnedVersion(binary: string): Promise<boolean> {
  try {
    const { stdout } = await execFileAsync(binary, ['--version'], { timeout: 10_000 });
    return stdout.includes(TEMPORAL_SERVER_MARKER);
  } catch {
    return false;
  }
}

function onPath(command: string): string | undefined {
  for (const dir of (rawSetting('PATH') ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** The pinned binary if one is already present; never builds. */
export async function findTemporalCli(): Promise<string | undefined> {
  const candidates = [settingText('TEMPORAL_CLI_PATH'), onPath('temporal'), localBinary];
  for (const candidate of candidates) {
    if (candidate && existsSync(candidate) && (await reportsPinnedVersion(candidate))) return candidate;
  }
  return undefined;
}

/** No pinned Temporal CLI and no way to build one: the message says how to get it (exit 2). */
export class TemporalCliUnavailableError extends NetcheckError {
  constructor(message: string) {
    super('CONFIGURATION', message);
  }
}

function howToGetIt(): string {
  return [
    `The Temporal CLI ${TEMPORAL_CLI_VERSION} (${TEMPORAL_SERVER_MARKER}) was not found and Go is not installed.`,
    'Get it one of these ways, then run this again:',
    `  1. Install Go (https://go.dev/dl/), then: npm run temporal:install`,
    `     (it runs: GOBIN=${localBinDir} go install github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION})`,
    `  2. Or put a temporal ${TEMPORAL_CLI_VERSION} binary anywhere and set TEMPORAL_CLI_PATH=/path/to/temporal`,
  ].join('\n');
}

/** Returns the pinned binary, building it with `go install` when absent (a cold build takes minutes). */
export async function ensureTemporalCli(log: (line: string) => void = console.error): Promise<string> {
  const found = await findTemporalCli();
  if (found) return found;
  const given = settingText('TEMPORAL_CLI_PATH');
  if (given) {
    log(
      `TEMPORAL_CLI_PATH=${given} is not a Temporal CLI reporting ${TEMPORAL_SERVER_MARKER}; building one.`,
    );
  }
  const go = onPath('go');
  if (!go) throw new TemporalCliUnavailableError(howToGetIt());
  log(
    `Building the Temporal CLI ${TEMPORAL_CLI_VERSION} into ${localBinDir} (a cold build takes a few minutes)…`,
  );
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(go, ['install', `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`], {
      env: { ...process.env, GOBIN: localBinDir },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new TemporalCliUnavailableError(`go install exited with ${code}.\n${howToGetIt()}`)),
    );
  });
  if (!(await reportsPinnedVersion(localBinary))) {
    throw new TemporalCliUnavailableError(
      `${localBinary} was built but does not report ${TEMPORAL_SERVER_MARKER}.`,
    );
  }
  log(`Built ${localBinary} in ${Math.round((Date.now() - started) / 1000)} s.`);
  return localBinary;
}
