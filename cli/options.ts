/**
 * What the commands' flag declarations (cli/commands/*.flags.ts) share: the examples block, the
 * options several commands take, and the `act` wrapper that stores an action's exit code.
 * Light: it must not load a command's action module or @temporalio/* (test/unit/cli-lazy.test.ts).
 */
import { type Command, Option } from 'commander';
import {
  API_NAMES,
  formatPurposeSetting,
  OPERATION_NAMES,
  parsePurposeSetting,
  PURPOSE_FAMILIES,
  PURPOSES,
} from '../domain/operations.js';
import { PROFILE_NAMES } from '../domain/profiles.js';
import { UsageError, type ExitCode } from './errors.js';
import * as parse from './parse.js';
import { stateDirDefault } from './stack/paths.js';

/** A command's action: resolves to the exit code. */
export type Action<A extends unknown[]> = (...args: A) => Promise<ExitCode>;

/** Turns an action into a commander action handler that stores its exit code for run(). */
export type Act = <A extends unknown[]>(fn: Action<A>) => (...args: A) => Promise<void>;

/** Adds one command (its flags, help text and lazily loaded action) to the program. */
export type RegisterCommand = (program: Command, act: Act) => void;

export const OPS = OPERATION_NAMES.join('|');

export function examples(...lines: string[]): string {
  return `\nExample${lines.length > 1 ? 's' : ''}:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}

export const apiOption = (what: string) =>
  new Option(
    '--api <api>',
    `${what}: camara (the CIBA flow) or identity-insights (default NETCHECK_API, else camara; carrier: identity-insights)`,
  ).choices(API_NAMES);

export const purposeOption = (what: string) =>
  new Option(
    '--purpose <purpose>',
    `${what}: the purpose your Vonage application is registered with, one of ${PURPOSES.join(', ')}, applied to each API family that accepts it; or one per family, ${PURPOSE_FAMILIES.map((f) => `${f}=<purpose>`).join(',')} (default NETCHECK_PURPOSE, else Vonage's per operation)`,
  ).argParser((v) => {
    const parsed = parsePurposeSetting(v, '--purpose');
    if (parsed.problem !== undefined) throw new UsageError(parsed.problem);
    return formatPurposeSetting(parsed.setting);
  });

export const profileOption = (what: string) =>
  new Option(
    '--profile <profile>',
    `${what}: vonage, or camara for any operator on the current CAMARA releases (also NETCHECK_PROFILE; default vonage; docs/profiles.md)`,
  ).choices(PROFILE_NAMES);

export const stateDirOption = () =>
  new Option('--state-dir <dir>', 'where the stack keeps its database, log and test key').default(
    stateDirDefault(),
  );

/** The flags of the embedded stack (`dev`, `demo`). */
export const stackOptions = (cmd: Command) =>
  cmd
    .option('--port <port>', 'Temporal frontend port (default 7233, or a free one if busy; 0 = any)', (v) =>
      parse.port('--port', v),
    )
    .option('--ui-port <port>', 'Temporal Web UI port (default 8233, or a free one if busy; 0 = any)', (v) =>
      parse.port('--ui-port', v),
    )
    .option(
      '--simulator-port <port>',
      'Vonage simulator port (default 9090, or a free one if busy; 0 = any)',
      (v) => parse.port('--simulator-port', v),
    )
    .option('--rate <n>', "the embedded worker's Vonage requests per second", (v) =>
      parse.positiveNumber('--rate', v),
    )
    .addOption(stateDirOption());
