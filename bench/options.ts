/** `npm run bench -- [flags]`: what to run. */
import { parseArgs } from 'node:util';

export const MODES = ['raw', 'standard', 'fast', 'tuned', 'bulk'] as const;
export type Mode = (typeof MODES)[number];

export interface BenchOptions {
  /** Check counts; the smallest runs every mode, larger ones only `bigModes`. */
  sizes: number[];
  /** Simulator CIBA intervals, seconds. */
  intervals: number[];
  /** Modes at the smallest size and the first interval. */
  modes: Mode[];
  /** Modes at the smallest size and the other intervals. */
  intervalModes: Mode[];
  /** Modes and intervals run at sizes above the smallest. */
  bigModes: Mode[];
  bigIntervals: number[];
  /** Single checks one at a time per latency variant (0 = skip). */
  latencyChecks: number;
  concurrency: number;
  /** Simulator latency per request, ms. */
  latencyMs: number;
  /** Rate-limit runs: each R in req/s (empty = skip) and the checks of each run. */
  rates: number[];
  rateChecks: number;
  /** Worker processes of the rate-limit runs (each count runs every mode and R). */
  rateWorkers: number[];
  /** History runs (one authorization_pending poll per check, intervals 0 and 1 s): checks per run (0 = skip). */
  historyChecks: number;
  /** Checks of the bulk history runs (a bulk batch's cost is shared by its checks: a screening-like size). */
  bulkHistoryChecks: number;
  rateModes: Exclude<Mode, 'raw'>[];
  /** Batch concurrency of the rate-limit runs: enough to keep R busy, not so much that checks queue for seconds. */
  rateConcurrency: number;
  /** Fault run: valid numbers in its batch (0 = skip; 5 invalid ones are added) and its modes. */
  faultChecks: number;
  faultModes: Exclude<Mode, 'raw'>[];
  /** Priority run: checks of the batch that keeps the queue busy (0 = skip), single checks timed meanwhile. */
  priorityChecks: number;
  prioritySingles: number;
  /** Assessment runs: assessments on each road (identity-insights, camara) (0 = skip). */
  assessChecks: number;
  /** Where results go; undefined = the default for this kind of run. */
  out?: string;
  /** Name of the result files (latest, full, smoke, custom; cluster, cluster-smoke, cluster-custom). */
  label: string;
  /** `--cluster`: only the dev server vs PostgreSQL cluster runs of bench/cluster.ts. */
  cluster?: boolean;
}

const HELP = `npm run bench -- [flags]

  (none)            N = 1,000 and 10,000, intervals 0 and 1 s, + rate-limit and fault runs (about 60 min on 2 cores)
  --full            adds N = 100,000
  --smoke           N = 20, interval 0, every mode and run kind at a tiny size (what CI runs)
  --sizes a,b       check counts (the smallest runs every mode, larger ones --big-modes)
  --intervals a,b   CIBA intervals in seconds
  --modes m,...     modes at the smallest size, first interval: of ${MODES.join(', ')} (default all)
  --interval-modes  modes at the smallest size, other intervals (default raw,standard,tuned,bulk)
  --big-modes m,... modes for sizes above the smallest (default raw,tuned,bulk)
  --big-intervals   intervals for sizes above the smallest (default 0,1)
  --latency-checks K  single checks one at a time per variant (default 40; 0 = skip)
  --concurrency C   checks in flight, raw and netcheck alike (default 100)
  --latency-ms L    simulator latency per request (default 50)
  --rate R,...      rate-limit runs at each R req/s (0 = skip; default 30,100)
  --rate-checks N   checks in each rate-limit run (default 1,000; 10,000 with --full; 20 with --smoke)
  --rate-modes m,.. netcheck modes of the rate-limit runs (default standard,fast,tuned,bulk; --smoke standard,fast,bulk)
  --rate-workers k,.. worker processes of the rate-limit runs (default 1,3; --smoke 3)
  --rate-concurrency C  batch concurrency of the rate-limit runs (default 100)
  --history-checks N  checks per history run: one authorization_pending poll each, intervals 0 and 1 s,
                    standard, fast and bulk: events and Temporal Cloud actions per check (0 = skip;
                    default 20; the bulk runs take 50 × N, a screening-like size)
  --fault-checks N  valid numbers in the fault run's batch, + 5 invalid ones (0 = skip; default 300):
                    R = 20 req/s on both sides, 10 % 503, 5 % 429, interval 1 s, expires_in 20 s
  --fault-modes m,.. netcheck modes of the fault run (default standard,fast)
  --priority-checks N  the priority run: one check's latency while an N-check batch keeps the same
                    task queue busy, with the batch at its default priority key 4 and at 3 like the
                    check, on a dev server with task queue priority on (0 = skip; default 2,000; --smoke 40)
  --priority-singles K  single checks timed in each priority run (default 20; --smoke 3)
  --assess-checks N assessments per road with the built-in policy (identity-insights: one request each;
                    camara: its checks in parallel): requests and seconds per assessment (0 = skip;
                    default 200; --smoke 10)
  --out DIR         result directory (default bench/results for default and --full runs, else a temp dir)
  --cluster         instead: throughput with 1 and 3 workers on the dev server and on a PostgreSQL
                    cluster (npm run cluster's topology); N = 1,000 (20 with --smoke), mode
                    standard (--modes to change), concurrency and interval as above; needs Go and
                    PostgreSQL (docs/production.md). Results: bench/results/cluster.{json,md}
`;

function list(raw: string | undefined, fallback: number[]): number[] {
  if (raw === undefined) return fallback;
  const values = raw.split(',').map((v) => Number(v.trim().replace(/_/g, '')));
  if (values.some((v) => !Number.isFinite(v) || v < 0)) throw new Error(`not a list of numbers: ${raw}`);
  return values;
}

function modes(raw: string | undefined, fallback: Mode[]): Mode[] {
  if (raw === undefined) return fallback;
  const values = raw.split(',').map((v) => v.trim());
  for (const v of values) {
    if (!(MODES as readonly string[]).includes(v))
      throw new Error(`unknown mode ${v}; use ${MODES.join(', ')}`);
  }
  return values as Mode[];
}

export function parseOptions(argv: string[]): BenchOptions | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      help: { type: 'boolean', short: 'h' },
      full: { type: 'boolean' },
      smoke: { type: 'boolean' },
      sizes: { type: 'string' },
      intervals: { type: 'string' },
      modes: { type: 'string' },
      'interval-modes': { type: 'string' },
      'big-modes': { type: 'string' },
      'big-intervals': { type: 'string' },
      'latency-checks': { type: 'string' },
      concurrency: { type: 'string' },
      'latency-ms': { type: 'string' },
      rate: { type: 'string' },
      'rate-checks': { type: 'string' },
      'rate-modes': { type: 'string' },
      'rate-concurrency': { type: 'string' },
      'rate-workers': { type: 'string' },
      'history-checks': { type: 'string' },
      'fault-checks': { type: 'string' },
      'fault-modes': { type: 'string' },
      'priority-checks': { type: 'string' },
      'priority-singles': { type: 'string' },
      'assess-checks': { type: 'string' },
      out: { type: 'string' },
      cluster: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(HELP);
    return undefined;
  }
  const smoke = values.smoke === true;
  const custom = [
    'sizes',
    'intervals',
    'modes',
    'interval-modes',
    'big-modes',
    'big-intervals',
    'latency-checks',
    'concurrency',
    'latency-ms',
    'rate',
    'rate-checks',
    'rate-modes',
    'rate-concurrency',
    'rate-workers',
    'history-checks',
    'fault-checks',
    'fault-modes',
    'priority-checks',
    'priority-singles',
    'assess-checks',
  ].some((k) => values[k as keyof typeof values] !== undefined);
  const options: BenchOptions = {
    sizes: list(
      values.sizes,
      smoke ? [20] : values.cluster ? [1_000] : values.full ? [1_000, 10_000, 100_000] : [1_000, 10_000],
    ),
    intervals: list(values.intervals, smoke ? [0] : [0, 1]),
    modes: modes(
      values.modes,
      values.cluster ? ['standard'] : smoke ? ['raw', 'standard', 'fast', 'bulk'] : [...MODES],
    ),
    intervalModes: modes(values['interval-modes'], ['raw', 'standard', 'tuned', 'bulk']),
    bigModes: modes(values['big-modes'], ['raw', 'tuned', 'bulk']),
    bigIntervals: list(values['big-intervals'], [0, 1]),
    latencyChecks: list(values['latency-checks'], [smoke ? 3 : 40])[0]!,
    concurrency: list(values.concurrency, [smoke ? 20 : 100])[0]!,
    latencyMs: list(values['latency-ms'], [50])[0]!,
    rates: list(values.rate, [30, 100]).filter((r) => r > 0),
    rateChecks: list(values['rate-checks'], [smoke ? 20 : values.full ? 10_000 : 1_000])[0]!,
    rateModes: modes(
      values['rate-modes'],
      smoke ? ['standard', 'fast', 'bulk'] : ['standard', 'fast', 'tuned', 'bulk'],
    ).filter((m) => m !== 'raw'),
    rateConcurrency: list(values['rate-concurrency'], [smoke ? 20 : 100])[0]!,
    rateWorkers: list(values['rate-workers'], smoke ? [3] : [1, 3]).filter((k) => k >= 1),
    historyChecks: list(values['history-checks'], [smoke ? 5 : 20])[0]!,
    bulkHistoryChecks: list(values['history-checks'], [smoke ? 2 : 20]).map((n) => n * 50)[0]!,
    faultChecks: list(values['fault-checks'], [smoke ? 25 : 300])[0]!,
    faultModes: modes(values['fault-modes'], smoke ? ['fast'] : ['standard', 'fast']).filter(
      (m) => m !== 'raw',
    ),
    priorityChecks: list(values['priority-checks'], [smoke ? 40 : 2_000])[0]!,
    prioritySingles: list(values['priority-singles'], [smoke ? 3 : 20])[0]!,
    assessChecks: list(values['assess-checks'], [smoke ? 10 : 200])[0]!,
    ...(values.out !== undefined ? { out: values.out } : {}),
    label: smoke ? 'smoke' : custom ? 'custom' : values.full ? 'full' : 'latest',
  };
  if (values.cluster) {
    options.cluster = true;
    options.label = `cluster${smoke ? '-smoke' : custom ? '-custom' : ''}`;
  }
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1 || options.concurrency > 1_000) {
    throw new Error('--concurrency must be a whole number from 1 to 1000');
  }
  if (!Number.isInteger(options.faultChecks) || options.faultChecks > 100_000)
    throw new Error('--fault-checks must be a whole number from 0 to 100000');
  if (options.sizes.some((n) => !Number.isInteger(n) || n < 1))
    throw new Error('--sizes must be whole numbers ≥ 1');
  return options;
}

export interface PlannedRun {
  mode: Mode;
  size: number;
  interval: number;
}

/** The smallest size: `modes` at the first interval, `intervalModes` at the others; larger sizes: `bigModes` × `bigIntervals`. */
export function plan(options: BenchOptions): PlannedRun[] {
  const sizes = [...options.sizes].sort((a, b) => a - b);
  const runs: PlannedRun[] = [];
  for (const size of sizes) {
    const big = size !== sizes[0];
    const intervals = big ? options.bigIntervals : options.intervals;
    intervals.forEach((interval, i) => {
      const modes = big ? options.bigModes : i === 0 ? options.modes : options.intervalModes;
      for (const mode of modes) runs.push({ mode, size, interval });
    });
  }
  return runs;
}
