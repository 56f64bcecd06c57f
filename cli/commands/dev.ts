/** `netcheck dev`: the embedded stack (Temporal dev server + UI, simulator, worker) until Ctrl-C. */
import { loadScenarioFile, type ScenarioFile } from '../../simulator/index.js';
import { EXIT, UsageError, type ExitCode } from '../errors.js';
import { startStack, workflowListUrl, type Stack } from '../stack/stack.js';

export interface StackFlags {
  port?: number;
  uiPort?: number;
  simulatorPort?: number;
  stateDir: string;
  rate?: number;
}

export function stackPorts(flags: StackFlags) {
  return {
    ...(flags.port !== undefined ? { temporal: flags.port } : {}),
    ...(flags.uiPort !== undefined ? { ui: flags.uiPort } : {}),
    ...(flags.simulatorPort !== undefined ? { simulator: flags.simulatorPort } : {}),
  };
}

export async function scenariosFrom(file: string | undefined): Promise<ScenarioFile | undefined> {
  if (file === undefined) return undefined;
  try {
    return await loadScenarioFile(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new UsageError(`--scenarios ${file}: no such file`);
    if (e.name === 'ScenarioValidationError' || e instanceof SyntaxError) throw new UsageError(e.message);
    throw err;
  }
}

/** How the stack's payloads are protected: the key file (and whether it was made now) and the codec server. */
export function encryptionLines(stack: Stack): string[] {
  const { keysFile, created, ring } = stack.encryption;
  return [
    `  Encryption   payloads encrypted (AES-256-GCM, key "${ring.primary}") with the key ring in ${keysFile}` +
      (created ? ' — generated now' : ''),
    ...(stack.codec
      ? [`  Codec server ${stack.codec.url} (the UI decodes through it; loopback only, no auth)`]
      : []),
  ];
}

/** What a second shell needs, as lines to paste. */
export function envLines(stack: Stack): string[] {
  return Object.entries(stack.env).map(([k, v]) => `  export ${k}=${v}`);
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Resolves on SIGINT/SIGTERM/SIGHUP (a second one exits at once) or when the stack fails on its own. */
export async function untilStopped(stack: Stack): Promise<{ signal?: NodeJS.Signals; failure?: string }> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      for (const s of STOP_SIGNALS) process.off(s, onSignal);
      for (const s of STOP_SIGNALS) process.once(s, () => process.exit(130));
      resolve({ signal });
    };
    for (const s of STOP_SIGNALS) process.once(s, onSignal);
    void stack.failed.then((failure) => resolve({ failure }));
  });
}

/**
 * While a command works with the stack (the demo's batch): a signal stops the stack and exits
 * 130. Returns the function that removes the handlers.
 */
export function stopOnSignal(stack: Stack): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`${signal}: stopping the stack…`);
    void stack.stop().finally(() => process.exit(130));
  };
  for (const s of STOP_SIGNALS) process.once(s, onSignal);
  return () => {
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
  };
}

export async function stopAfter(stack: Stack): Promise<ExitCode> {
  const { signal, failure } = await untilStopped(stack);
  if (signal) console.error(`${signal}: stopping the worker, the simulator and the Temporal dev server…`);
  if (failure) console.error(`${failure}; stopping the rest of the stack…`);
  await stack.stop();
  console.error(`stopped.${failure ? '' : ' Runs are kept in the dev server database for next time.'}`);
  return failure ? EXIT.ERROR : EXIT.OK;
}

export async function devCommand(flags: StackFlags & { scenarios?: string }): Promise<ExitCode> {
  const scenarios = await scenariosFrom(flags.scenarios);
  console.error('starting the netcheck dev stack…');
  const stack = await startStack({
    stateDir: flags.stateDir,
    name: 'dev',
    ports: stackPorts(flags),
    ...(scenarios ? { scenarios } : {}),
    ...(flags.rate !== undefined ? { rateLimit: flags.rate } : {}),
    logLevel: 'WARN',
    log: (line) => console.error(line),
  });
  const ui = stack.uiUrl
    ? workflowListUrl(
        stack.uiUrl,
        stack.namespace,
        'WorkflowType = "networkCheck" OR WorkflowType = "batchCheck"',
      )
    : undefined;
  console.log(
    [
      '',
      'netcheck dev stack is up',
      ...(stack.uiUrl ? [`  Temporal UI  ${stack.uiUrl}/namespaces/${stack.namespace}/workflows`] : []),
      `  Temporal     ${stack.temporalAddress} (namespace ${stack.namespace}; state in ${flags.stateDir}/dev/temporal.db)`,
      `  Simulator    ${stack.simulatorUrl} (Vonage-compatible; Virtual Operator numbers +990…)`,
      `  Worker       task queue "${stack.taskQueue}"${flags.rate !== undefined ? `, ${flags.rate} requests/s` : ''}`,
      ...encryptionLines(stack),
      '',
      'In another shell:',
      ...envLines(stack),
      `  (or: source ${stack.envFile})`,
      'then for example:',
      '  netcheck check +99012345601 --op sim-swap',
      '  netcheck find +99012345601',
      ...(ui ? [`netcheck's runs in the UI: ${ui}`] : []),
      '',
      'Ctrl-C stops everything.',
    ].join('\n'),
  );
  return stopAfter(stack);
}
