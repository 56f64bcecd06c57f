/** `npm run bench -- [flags]`: what to run. */
import { parseArgs } from 'node:util';

export const MODES = ['raw', 'standard', 'fast', 'tuned'] as const;
export type Mode = (typeof MODES)[number];

export interface BenchOptions {
  /** Check counts; the smallest runs every mode, larger ones only `bigModes`. */
  sizes: number[];
  /** Simulator CIBA intervals, seconds. */
  intervals: number[];
  modes: Mode[];
  /** Modes run at sizes above the smallest. */
  bigModes: Mode[];
  concurrency: number;
  /** Simulator latency per request, ms. */
  latencyMs: number;
  /** Rate-limit run: R req/s (0 = skip) and its number of checks. */
  rate: number;
  rateChecks: number;
  /** Where results go; undefined = the default for this kind of run. */
  out?: string;
  /** Name of the result files (latest, full, smoke, custom). */
  label: string;
}

const HELP = `npm run bench -- [flags]

  (none)            N = 1,000 and 10,000, intervals 0 and 1 s, + rate-limit run (about 10 min)
  --full            adds N = 100,000
  --smoke           N = 50, interval 0, tiny rate-limit run (seconds; what CI runs)
  --sizes a,b       check counts (the smallest runs every mode, larger ones --big-modes)
  --intervals a,b   CIBA intervals in seconds
  --modes m,...     of ${MODES.join(', ')}
  --big-modes m,... modes for sizes above the smallest (default raw,tuned)
  --concurrency C   checks in flight, raw and netcheck alike (default 100)
  --latency-ms L    simulator latency per request (default 50)
  --rate R          rate-limit run at R req/s (0 = skip; default 100)
  --rate-checks N   checks in the rate-limit run (default 1,000)
  --out DIR         result directory (default bench/results for default and --full runs, else a temp dir)
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
      'big-modes': { type: 'string' },
      concurrency: { type: 'string' },
      'latency-ms': { type: 'string' },
      rate: { type: 'string' },
      'rate-checks': { type: 'string' },
      out: { type: 'string' },
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
    'big-modes',
    'concurrency',
    'latency-ms',
    'rate',
    'rate-checks',
  ].some((k) => values[k as keyof typeof values] !== undefined);
  const options: BenchOptions = {
    sizes: list(values.sizes, smoke ? [50] : values.full ? [1_000, 10_000, 100_000] : [1_000, 10_000]),
    intervals: list(values.intervals, smoke ? [0] : [0, 1]),
    modes: modes(values.modes, [...MODES]),
    bigModes: modes(values['big-modes'], ['raw', 'tuned']),
    concurrency: list(values.concurrency, [smoke ? 20 : 100])[0]!,
    latencyMs: list(values['latency-ms'], [50])[0]!,
    rate: list(values.rate, [smoke ? 50 : 100])[0]!,
    rateChecks: list(values['rate-checks'], [smoke ? 30 : 1_000])[0]!,
    ...(values.out !== undefined ? { out: values.out } : {}),
    label: smoke ? 'smoke' : custom ? 'custom' : values.full ? 'full' : 'latest',
  };
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1 || options.concurrency > 1_000) {
    throw new Error('--concurrency must be a whole number from 1 to 1000');
  }
  if (options.sizes.some((n) => !Number.isInteger(n) || n < 1))
    throw new Error('--sizes must be whole numbers ≥ 1');
  return options;
}
