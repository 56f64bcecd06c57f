/**
 * What the simulated operator knows about a number: its flow settings (CIBA timings,
 * consent) and its network data. Precedence: the number's scenario entry, then the scenario
 * defaults, then the simulator options; network data of unlisted +990 numbers follows the
 * Virtual Operator rules, and any other unlisted number is unknown (404 on CAMARA calls).
 */
import type { Connectivity, Roaming, ScenarioStore } from './scenarios.js';
import {
  isVirtualOperatorNumber,
  virtualOperatorConnectivity,
  virtualOperatorLastSimChange,
  virtualOperatorRoaming,
  virtualOperatorSimSwapUnknown,
} from './virtual-operator.js';

export interface FlowDefaults {
  expiresIn: number;
  interval: number;
  pendingPolls: number;
  tokenExpiresIn: number;
}

export interface FlowSettings extends FlowDefaults {
  denied: boolean;
  /** False: no operator the application can reach serves the number (bc-authorize 404). */
  operatorServes: boolean;
  /** True: the number is not on the application's allowlist (bc-authorize 403). */
  allowlistBlocked: boolean;
}

/** `undefined` for a field means the number is unknown to that API (404). */
export interface SubscriberData {
  /** ms since the epoch of the last SIM change; null when never swapped. */
  simSwap?: { lastSimChange: number | null };
  connectivity?: Connectivity;
  roaming?: Roaming;
}

const HOUR_MS = 3_600_000;

export class Subscribers {
  constructor(
    private readonly scenarios: ScenarioStore,
    private readonly options: FlowDefaults,
  ) {}

  /** Whether the CAMARA SIM Swap routes answer as retired (scenario `retiredSimSwap`). */
  simSwapRetired(): boolean {
    return this.scenarios.retiredSimSwap;
  }

  flow(msisdn: string): FlowSettings {
    const entry = this.scenarios.entry(msisdn) ?? {};
    const defaults = this.scenarios.defaults;
    return {
      expiresIn: entry.expiresIn ?? defaults.expiresIn ?? this.options.expiresIn,
      interval: entry.interval ?? defaults.interval ?? this.options.interval,
      pendingPolls: entry.pendingPolls ?? defaults.pendingPolls ?? this.options.pendingPolls,
      tokenExpiresIn: entry.tokenExpiresIn ?? defaults.tokenExpiresIn ?? this.options.tokenExpiresIn,
      denied: entry.denied ?? defaults.denied ?? false,
      operatorServes: entry.operatorServes ?? true,
      allowlistBlocked: entry.allowlistBlocked ?? false,
    };
  }

  data(msisdn: string, nowMs: number): SubscriberData {
    const entry = this.scenarios.entry(msisdn);
    if (entry) {
      if (entry.unknown) return {};
      const defaults = this.scenarios.defaults;
      const source =
        entry.lastSimChange !== undefined || entry.lastSimChangeHoursAgo !== undefined ? entry : defaults;
      let lastSimChange: number | null = null;
      if (source.lastSimChangeHoursAgo !== undefined)
        lastSimChange = nowMs - source.lastSimChangeHoursAgo * HOUR_MS;
      else if (typeof source.lastSimChange === 'string') lastSimChange = Date.parse(source.lastSimChange);
      return {
        simSwap: { lastSimChange },
        connectivity: entry.connectivity ?? defaults.connectivity ?? 'CONNECTED_DATA',
        roaming: entry.roaming ?? defaults.roaming ?? { roaming: false },
      };
    }
    if (isVirtualOperatorNumber(msisdn)) {
      return {
        simSwap: virtualOperatorSimSwapUnknown(msisdn)
          ? undefined
          : { lastSimChange: virtualOperatorLastSimChange(nowMs) },
        connectivity: virtualOperatorConnectivity(),
        roaming: virtualOperatorRoaming(msisdn),
      };
    }
    return {};
  }
}
