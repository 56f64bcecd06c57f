/**
 * A PostgreSQL instance of the cluster from Debian's packages (initdb, pg_ctl), in a folder of
 * its own, listening on 127.0.0.1 only (no Unix socket), trusting local connections of the
 * `temporal` user. As root, the commands run as the `postgres` user (initdb refuses root).
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { settingText } from '../../common/settings.js';

const execFileAsync = promisify(execFile);

export const POSTGRES_USER = 'temporal';

export interface Postgres {
  host: string;
  port: number;
  user: string;
  dataDir: string;
  logFile: string;
  stop(): Promise<void>;
}

/** The folder with initdb and pg_ctl: NETCHECK_PG_BIN, else Debian's newest /usr/lib/postgresql/<n>/bin. */
export function findPostgresBin(env: NodeJS.ProcessEnv = process.env): string {
  const candidates: string[] = [];
  const pgBin = settingText('NETCHECK_PG_BIN', env);
  if (pgBin) candidates.push(pgBin);
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    for (const version of readdirSync(debian).sort((a, b) => Number(b) - Number(a))) {
      candidates.push(path.join(debian, version, 'bin'));
    }
  }
  const found = candidates.find(
    (dir) => existsSync(path.join(dir, 'initdb')) && existsSync(path.join(dir, 'pg_ctl')),
  );
  if (!found) {
    throw new Error(
      'PostgreSQL is not installed (no initdb/pg_ctl under /usr/lib/postgresql/*/bin): ' +
        'install it with `apt-get install -y postgresql` (Debian 12 ships version 15), or set NETCHECK_PG_BIN to the folder with initdb and pg_ctl.',
    );
  }
  return found;
}

const isRoot = () => process.getuid?.() === 0;

/** Runs a PostgreSQL command, as the `postgres` user when this process is root. */
async function pg(bin: string, command: string, args: string[]): Promise<string> {
  const file = path.join(bin, command);
  const [cmd, argv] = isRoot() ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
  try {
    const { stdout, stderr } = await execFileAsync(cmd, argv, { timeout: 120_000 });
    return stdout + stderr;
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

/**
 * As root: the folder belongs to `postgres`, which must also be able to pass through every
 * folder above it. A state folder made private (0700, e.g. .netcheck/ holding the simulator's
 * key) gets o+x — enter, not list; its key files stay 0600. Folders outside `within` are left
 * alone and reported.
 */
async function ownedByPostgres(dir: string, within: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (!isRoot()) return;
  const { stdout } = await execFileAsync('id', ['-u', 'postgres']);
  const { stdout: gid } = await execFileAsync('id', ['-g', 'postgres']);
  await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  const root = path.resolve(within);
  for (let parent = path.dirname(path.resolve(dir)); ; parent = path.dirname(parent)) {
    const { mode } = await stat(parent);
    if ((mode & 0o001) === 0) {
      if (parent !== root && !parent.startsWith(root + path.sep)) {
        throw new Error(
          `PostgreSQL runs as the postgres user, which cannot enter ${parent}: choose a state folder it can reach (--state-dir).`,
        );
      }
      await chmod(parent, (mode & 0o7777) | 0o001);
    }
    if (parent === path.dirname(parent)) break;
  }
}

/** Stops a server a previous run left behind in this data folder (its owner was killed). */
export async function stopLeftover(dir: string, bin = findPostgresBin()): Promise<void> {
  const dataDir = path.join(dir, 'data');
  if (!existsSync(path.join(dataDir, 'postmaster.pid'))) return;
  await pg(bin, 'pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
}

/** Initialises the folder on first use, then starts the server on `port`. */
export async function startPostgres(options: {
  dir: string;
  port: number;
  /** The folder (project or state folder) whose sub-folders may be opened up for `postgres`. */
  within: string;
}): Promise<Postgres> {
  const bin = findPostgresBin();
  const dataDir = path.join(options.dir, 'data');
  const logFile = path.join(options.dir, 'postgres.log');
  await ownedByPostgres(options.dir, options.within);
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    await pg(bin, 'initdb', [
      '-D',
      dataDir,
      '-U',
      POSTGRES_USER,
      '-A',
      'trust',
      '--encoding',
      'UTF8',
      '--locale',
      'C',
      '--no-sync',
    ]);
  }
  await stopLeftover(options.dir, bin);
  const settings = [
    `-p ${options.port}`,
    '-c listen_addresses=127.0.0.1',
    "-c unix_socket_directories=''",
    // Four Temporal services with up to 20 + 2 connections each, the schema tool and some room.
    '-c max_connections=200',
  ].join(' ');
  await pg(bin, 'pg_ctl', ['-D', dataDir, '-l', logFile, '-o', settings, '-w', '-t', '60', 'start']);
  return {
    host: '127.0.0.1',
    port: options.port,
    user: POSTGRES_USER,
    dataDir,
    logFile,
    async stop() {
      await pg(bin, 'pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', '-t', '60', 'stop']).catch(() => undefined);
    },
  };
}
