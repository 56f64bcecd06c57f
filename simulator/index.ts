/**
 * Vonage-compatible HTTP simulator: OAuth CIBA (bc-authorize, token) and the CAMARA SIM Swap
 * and Device Status endpoints, with scenarios, injected faults, a rate limit and stats.
 * This module only gathers the public names: the simulator starts in start.ts.
 */
export type { FaultOptions, Simulator, SimulatorOptions, SimulatorStats, ViolationKind } from './types.js';
export type { ScenarioFile } from './scenarios.js';
export { VIOLATION_KINDS } from './types.js';
export {
  FAULT_ENDPOINTS,
  loadScenarioFile,
  parseScenarioFile,
  ScenarioValidationError,
} from './scenarios.js';
export type { FaultEndpoint } from './scenarios.js';
// The command line (`netcheck simulator`, `npm run simulator`) and its test-key set-up.
export { keySetup, runSimulatorCli, USAGE as SIMULATOR_USAGE, type KeySetup } from './cli.js';

export { DEFAULTS, exposedWarning, startSimulator } from './start.js';
export { isLoopbackHost } from '../common/net.js';
