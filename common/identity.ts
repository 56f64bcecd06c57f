/**
 * The identity a netcheck client gives Temporal: recorded in every run it starts
 * (WorkflowExecutionStarted.identity), so `netcheck audit export` can say who started each
 * check and assessment. NETCHECK_CLIENT_IDENTITY sets it (a service name, a team, a person);
 * unset, the Temporal SDK's default (`<pid>@<host>`) is kept.
 */
import { ConfigurationError } from '../domain/errors.js';
import { settingText } from './settings.js';

/** The longest identity accepted: it is stored with every run. */
export const CLIENT_IDENTITY_MAX = 200;

/** NETCHECK_CLIENT_IDENTITY, checked: one line of at most 200 characters; undefined when unset. */
export function clientIdentity(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = settingText('NETCHECK_CLIENT_IDENTITY', env);
  if (!value) return undefined;
  // eslint-disable-next-line no-control-regex
  if (value.length > CLIENT_IDENTITY_MAX || /[\u0000-\u001f\u007f-\u009f]/.test(value)) {
    throw new ConfigurationError([
      `NETCHECK_CLIENT_IDENTITY must be one line of at most ${CLIENT_IDENTITY_MAX} characters (a service, team or person: who starts the runs); it is recorded with every run this client starts.`,
    ]);
  }
  return value;
}

/** `{ identity }` for a Temporal Client's options when NETCHECK_CLIENT_IDENTITY is set, else `{}`. */
export function clientIdentityOption(env: NodeJS.ProcessEnv = process.env): { identity?: string } {
  const identity = clientIdentity(env);
  return identity === undefined ? {} : { identity };
}
