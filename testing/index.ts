/**
 * `netcheck/testing`: test your own fraud workflows offline. A Vonage-compatible simulator runs
 * in your test process and trusts a test application key made on the spot; you say what it
 * answers for your numbers (scenarios); a test worker carries the NetcheckPlugin pointed at it.
 *
 *   const simulator = await startTestSimulator();
 *   simulator.addScenarios({ numbers: { '+447700900123': { lastSimChangeHoursAgo: 2 } } });
 *   const worker = await createTestWorker(simulator, {
 *     connection: testEnv.nativeConnection, taskQueue: 'fraud-test', workflowsPath,
 *   });
 *   await worker.runUntil(testEnv.client.workflow.execute(myWorkflow, { … }));
 *   await simulator.close();
 *
 * The Temporal side is yours (TestWorkflowEnvironment from @temporalio/testing): register
 * `netcheckSearchAttributes` on its server, as netcheck's workflows set them. This module loads
 * @temporalio/worker, and your tests @temporalio/testing: both are optional peer dependencies of
 * netcheck, installed as dev dependencies of the project that tests.
 */
import { generateKeyPair, randomUUID, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { Worker, WorkerOptions } from '@temporalio/worker';
import { SEARCH_ATTRIBUTES } from '../domain/search-attributes.js';
import {
  startSimulator,
  type FaultOptions,
  type ScenarioFile,
  type SimulatorOptions,
  type SimulatorStats,
} from '../simulator/index.js';
import { assembleWorker } from '../worker/assemble.js';
import { NetcheckPlugin, type NetcheckPluginOptions } from '../worker/plugin.js';

export type { FaultOptions, ScenarioFile, SimulatorStats, ViolationKind } from '../simulator/index.js';
export { NetcheckPlugin, netcheckWorkflowsPath, type NetcheckPluginOptions } from '../worker/plugin.js';

/**
 * netcheck's search attributes. Its workflows set them, so a test server must know them:
 * `TestWorkflowEnvironment.createLocal({ server: { searchAttributes: [...netcheckSearchAttributes] } })`.
 */
export const netcheckSearchAttributes = SEARCH_ATTRIBUTES;

export interface TestSimulatorOptions extends Pick<
  SimulatorOptions,
  'expiresIn' | 'pendingPolls' | 'tokenExpiresIn' | 'numericStrings' | 'omitInterval' | 'rateLimit'
> {
  /** Listen port (default 0: any free port). */
  port?: number;
  /** Seconds the simulator asks between token polls (default 0.2, so tests stay quick). */
  interval?: number;
  /** What it answers for your numbers; more with `addScenarios`. */
  scenarios?: ScenarioFile;
  /** Random faults (503s, 429s, latency, dropped connections) for every number. */
  faults?: FaultOptions;
}

/** The Vonage application the simulator trusts: what NetcheckPlugin needs to reach it. */
export type TestVonageApplication = Pick<NetcheckPluginOptions, 'applicationId' | 'privateKey' | 'baseUrl'>;

export interface TestSimulator {
  /** Its base URL (http://127.0.0.1:<port>). */
  readonly url: string;
  /** The generated test application (id, private key) and the simulator's URL. */
  readonly vonage: TestVonageApplication & { publicKey: KeyObject };
  /**
   * Adds numbers (or replaces their entries): SIM changes, connectivity, roaming, a subscriber
   * who refuses consent, unknown numbers, scripted faults. Numbers starting +990 follow
   * Vonage's Virtual Operator rules without any scenario.
   */
  addScenarios(scenarios: ScenarioFile): void;
  /** Requests received (per endpoint and status) and client misbehaviours seen, for one number or all. */
  stats(msisdn?: string): SimulatorStats;
  /** Zeroes the stats. */
  reset(): void;
  /** A NetcheckPlugin pointed at this simulator (options such as rateLimit or http added). */
  plugin(options?: Partial<NetcheckPluginOptions>): NetcheckPlugin;
  close(): Promise<void>;
}

const generateRsaKeyPair = promisify(generateKeyPair);

/** Starts the simulator in this process, trusting a test application key generated now. */
export async function startTestSimulator(options: TestSimulatorOptions = {}): Promise<TestSimulator> {
  const { privateKey, publicKey } = await generateRsaKeyPair('rsa', { modulusLength: 2048 });
  const applicationId = randomUUID();
  const { port = 0, interval = 0.2, ...rest } = options;
  const simulator = await startSimulator({ ...rest, applicationId, publicKey, port, interval });
  const vonage = { applicationId, privateKey, publicKey, baseUrl: simulator.url };
  return {
    url: simulator.url,
    vonage,
    addScenarios: (scenarios) => simulator.addScenarios(scenarios),
    stats: (msisdn) => simulator.stats(msisdn),
    reset: () => simulator.reset(),
    plugin: (pluginOptions = {}) =>
      new NetcheckPlugin({
        ...pluginOptions,
        applicationId,
        privateKey,
        baseUrl: simulator.url,
      }),
    close: () => simulator.close(),
  };
}

/**
 * A worker with the NetcheckPlugin pointed at the simulator, added to the plugins you pass
 * (built by assembleWorker, like every netcheck worker). The simulator is a TestSimulator, or
 * any `{ vonage }` naming the application a simulator elsewhere trusts (a shared one in another
 * process). Without workflowsPath or workflowBundle it runs netcheck's workflows; with your own,
 * that module must also export netcheck's (`export { networkCheck } from 'netcheck/workflows'`)
 * for your workflows to run them as children on this task queue. `pluginOptions` may also move
 * the plugin to another simulator (`baseUrl`).
 */
export async function createTestWorker(
  simulator: { readonly vonage: TestVonageApplication },
  options: WorkerOptions,
  pluginOptions: Partial<NetcheckPluginOptions> = {},
): Promise<Worker> {
  const { applicationId, privateKey, baseUrl } = simulator.vonage;
  return assembleWorker({
    ...options,
    netcheck: { applicationId, privateKey, baseUrl, ...pluginOptions },
  });
}
