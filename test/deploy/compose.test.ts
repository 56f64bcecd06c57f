/**
 * The compose contract, checked without a Docker engine: docker-compose.yml (and with
 * docker-compose.prod.yml over it), interpolated with .env.example's values, is held to the code.
 *
 * - Each netcheck service sets only variables the settings registry (common/settings.ts) lists
 *   for its roles, and secrets only as files (compose `secrets:`), never as values.
 * - Each netcheck service's own configuration loader accepts the environment it gets (the
 *   worker's loadConfig, the codec server's settings, the clients'), with its secrets and
 *   volumes as files the test makes: the simulator writes its key pair into the shared volume,
 *   the worker must find it there.
 * - Host ports bind 127.0.0.1; every image is pinned (a digest; Temporal's by exact release; or a
 *   pin exemption stated in the file and documented in docs/production.md); every long-running
 *   service that others wait on has a health check and they wait for it.
 * - The netcheck services are scripts/cluster/topology.ts's, which `npm run cluster` runs: same
 *   commands, same environment, same secrets, same start conditions.
 * - docs/production.md's walk-through: its secrets step, run as written, makes files the loaders take.
 * Each failure names the service and the variable. `docker-compose config` runs too when installed.
 */
import { execFile, execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { codecServerSettings, type CodecServerFlags } from '../../cli/commands/codec-server.js';
import { projectRoot, TEMPORAL_SERVER_MARKER } from '../../cli/stack/temporal-cli.js';
import { clientDefaults, resolveSubjectKey } from '../../client/index.js';
import { dataConverterFromEnv } from '../../codec/data-converter.js';
import { loadKeyRing, newKeyEntry } from '../../codec/keyring.js';
import { environmentProblems, resolveTaskQueue, SETTINGS } from '../../common/settings.js';
import { keySetup } from '../../simulator/cli.js';
import { TEMPORAL_SERVER_VERSION } from '../../scripts/cluster/server.js';
import {
  NETCHECK_SERVICES,
  resolveEnv,
  serviceArgs,
  SIMULATOR_APPLICATION_ID,
  SIMULATOR_KEY_FILE,
  type NetcheckService,
  type Resolver,
} from '../../scripts/cluster/topology.js';
import { loadConfig } from '../../worker/config.js';
import { healthSettingsFromEnv } from '../../worker/health.js';
import { metricsSettingsFromEnv } from '../../worker/metrics.js';
import { tracesExportersFromEnv } from '../../worker/tracing.js';

const execFileAsync = promisify(execFile);
const read = (file: string) => readFileSync(path.join(projectRoot, file), 'utf8');

type Json = Record<string, unknown>;
interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  entrypoint?: string[] | string;
  depends_on?: string[] | Record<string, { condition?: string }>;
  environment?: Record<string, string | number | null> | string[];
  ports?: unknown[];
  volumes?: (string | Json)[];
  secrets?: (string | { source: string; target?: string })[];
  healthcheck?: { test?: unknown; disable?: boolean };
  network_mode?: string;
  profiles?: string[];
  container_name?: string;
  restart?: string;
  deploy?: Json;
}
interface ComposeDoc {
  services: Record<string, Service>;
  volumes?: Json;
  secrets?: Record<string, { file?: string; environment?: string }>;
}

// ---- reading the files as Compose would ----

/** `NAME=value` lines of .env.example, and the commented `# NAME=value` ones (defaults, examples). */
function envExample(text: string): { set: Map<string, string>; examples: Map<string, string> } {
  const set = new Map<string, string>();
  const examples = new Map<string, string>();
  for (const line of text.split('\n')) {
    const active = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (active) set.set(active[1]!, active[2]!);
    const commented = /^#\s*([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (commented) examples.set(commented[1]!, commented[2]!);
  }
  return { set, examples };
}

/** Every `${NAME…}` a file interpolates (`$$` is a literal dollar for the container's shell). */
function usedVariables(text: string): Set<string> {
  const names = new Set<string>();
  for (const match of text.replace(/\$\$/g, '').matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g))
    names.add(match[1]!);
  return names;
}

/** Compose interpolation of `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:?message}`. */
function interpolate(text: string, env: Map<string, string>): string {
  return text.replace(
    /(\$\$)|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g,
    (all, dollar: string | undefined, name: string, op?: string, arg?: string) => {
      if (dollar) return all;
      const value = env.get(name);
      const empty = value === undefined || (op?.startsWith(':') && value === '');
      if (op?.endsWith('?') && empty) throw new Error(`${name} is required: ${arg ?? ''}`);
      if (op?.endsWith('-') && empty) return arg ?? '';
      return value ?? '';
    },
  );
}

function merge(base: unknown, over: unknown): unknown {
  if (
    Array.isArray(base) ||
    Array.isArray(over) ||
    typeof base !== 'object' ||
    typeof over !== 'object' ||
    !base ||
    !over
  ) {
    return over ?? base;
  }
  const out: Json = { ...(base as Json) };
  for (const [key, value] of Object.entries(over as Json)) {
    // Compose merges these by key/entry; `command`, `entrypoint`, `healthcheck.test` are replaced.
    if (key === 'secrets' && Array.isArray(value) && Array.isArray(out[key])) {
      out[key] = [...new Set([...(out[key] as unknown[]), ...(value as unknown[])])];
    } else out[key] = merge(out[key], value);
  }
  return out;
}

function load(files: string[], env: Map<string, string>): ComposeDoc {
  const docs = files.map((file) => parse(interpolate(read(file), env), { merge: true }) as ComposeDoc);
  const doc = docs.reduce((a, b) => merge(a, b) as ComposeDoc);
  // Compose's own normalisation: drop the `x-` extension merge key leftovers, stringify numbers.
  for (const service of Object.values(doc.services)) {
    if (service.environment && !Array.isArray(service.environment)) {
      for (const [k, v] of Object.entries(service.environment)) {
        if (typeof v === 'number') service.environment[k] = String(v);
      }
    }
  }
  return doc;
}

function dependencies(service: Service): [string, string][] {
  const deps = service.depends_on ?? [];
  if (Array.isArray(deps)) return deps.map((d) => [d, 'service_started']);
  return Object.entries(deps).map(([name, d]) => [name, d.condition ?? 'service_started']);
}

function environment(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  const entries = Array.isArray(env)
    ? env.map((entry) => [entry.split('=')[0]!, entry.split('=').slice(1).join('=')] as [string, string])
    : Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)] as [string, string]);
  return Object.fromEntries(entries);
}

const secretsOf = (service: Service) =>
  (service.secrets ?? []).map((s) => (typeof s === 'string' ? s : s.source));
/** The `netcheck …` arguments (or the image's): a netcheck service without `command` runs its CMD, `worker`. */
const commandOf = (service: Service) =>
  Array.isArray(service.command)
    ? service.command.map(String)
    : (service.command?.split(/\s+/) ?? (service.build !== undefined ? ['worker'] : []));

const example = envExample(read('.env.example'));
/** .env.example plus its commented examples: the values a production .env sets. */
const prodEnv = new Map([...example.examples, ...example.set]);
const base = load(['docker-compose.yml'], example.set);
const prod = load(['docker-compose.yml', 'docker-compose.prod.yml'], prodEnv);
const names = Object.keys(base.services);
const dockerfile = read('Dockerfile');

/** The Dockerfile's runtime ENV (what every netcheck container starts with). */
const imageEnv: Record<string, string> = (() => {
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const block = /^ENV ((?:.*\\\n)*.*)$/m.exec(runtime)?.[1] ?? '';
  return Object.fromEntries(
    [...block.replace(/\\\n/g, ' ').matchAll(/([A-Z_][A-Z0-9_]*)=(\S+)/g)].map((m) => [m[1]!, m[2]!]),
  );
})();

/** Services that run the netcheck image. */
const netcheckServices = (doc: ComposeDoc) =>
  Object.entries(doc.services).filter(([, s]) => s.build !== undefined || s.image?.startsWith('netcheck:'));

// ---- the containers' files, made here: secrets and the shared key volume ----

const scratch = mkdtempSync(path.join(os.tmpdir(), 'netcheck-compose-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** What each secret holds, made the way docs/production.md says (at test time, never committed). */
const SECRET_CONTENT: Record<string, () => string> = {
  'postgres-password': () => randomBytes(16).toString('hex'),
  'encryption-keys': () => newKeyEntry('k1'),
  'subject-key': () => randomBytes(32).toString('hex'),
  'vonage-private-key': () =>
    generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString(),
  'codec-tls-cert': () => '-----BEGIN CERTIFICATE-----\n(test)\n-----END CERTIFICATE-----\n',
  'codec-tls-key': () =>
    generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString(),
  'ui-oidc-client-secret': () => randomBytes(16).toString('hex'),
};

/**
 * One service's environment as its process would see it: the image's ENV, then the compose
 * file's, with every path into a mounted secret or volume rewritten to this machine's copy.
 */
function containerEnv(doc: ComposeDoc, name: string, dir: string): Record<string, string> {
  const service = doc.services[name]!;
  const mounts = new Map<string, string>();
  const secretDir = path.join(dir, 'secrets');
  mkdirSync(secretDir, { recursive: true });
  for (const secret of secretsOf(service)) {
    const file = path.join(secretDir, secret);
    if (!existsSync(file)) writeFileSync(file, SECRET_CONTENT[secret]?.() ?? `${secret}\n`);
    mounts.set(`/run/secrets/${secret}`, file);
  }
  for (const volume of service.volumes ?? []) {
    if (typeof volume !== 'string') continue;
    const [source, target] = volume.split(':');
    if (!source || !target) continue;
    const local = path.join(dir, 'volumes', source.replace(/[^A-Za-z0-9-]/g, '_'));
    mkdirSync(local, { recursive: true });
    mounts.set(target, local);
  }
  const env = { ...imageEnv, ...environment(service) };
  for (const [key, value] of Object.entries(env)) {
    for (const [target, local] of mounts) {
      if (value === target || value.startsWith(`${target}/`)) env[key] = local + value.slice(target.length);
    }
  }
  return env;
}

/** Flags of a `netcheck codec-server …` command line. */
function codecFlags(command: string[]): CodecServerFlags {
  const flag = (name: string) => {
    const at = command.indexOf(name);
    return at >= 0 ? command[at + 1] : undefined;
  };
  return {
    ...(flag('--host') ? { host: flag('--host')! } : {}),
    ...(flag('--port') ? { port: Number(flag('--port')) } : {}),
    ...(flag('--tls-cert') ? { tlsCert: flag('--tls-cert')! } : {}),
    ...(flag('--tls-key') ? { tlsKey: flag('--tls-key')! } : {}),
  };
}

/**
 * The problems the service's own loader finds in its environment (as it starts in the
 * container): the worker's loadConfig and its observability settings, the codec server's
 * settings and key ring, the clients' key ring, subject key and defaults.
 */
async function loaderProblems(doc: ComposeDoc, name: string, dir: string): Promise<string[]> {
  const service = doc.services[name]!;
  const env = containerEnv(doc, name, dir);
  const command = commandOf(service);
  const problems: string[] = [];
  const attempt = (what: () => unknown) => {
    try {
      what();
    } catch (err) {
      const e = err as { problems?: string[]; message: string };
      problems.push(...(e.problems ?? [e.message]));
    }
  };
  const role = command[0] ?? 'worker';
  if (role === 'simulator') {
    // It writes its key pair into its state folder, the volume the workers mount.
    const at = command.indexOf('--state-dir');
    const target = command[at + 1]!;
    const volume = (service.volumes ?? []).find(
      (v) => typeof v === 'string' && v.split(':')[1] === target,
    ) as string;
    if (!volume)
      problems.push(`--state-dir ${target} is not a mounted volume: the workers would not see its key`);
    else
      await keySetup(
        command[command.indexOf('--app-id') + 1],
        undefined,
        path.join(dir, 'volumes', volume.split(':')[0]!),
      );
  } else if (role === 'worker') {
    attempt(() => loadConfig(env));
    attempt(() => healthSettingsFromEnv(env));
    attempt(() => metricsSettingsFromEnv(env));
    attempt(() => tracesExportersFromEnv(env));
  } else if (role === 'codec-server') {
    const flags = codecFlags(command);
    const local = Object.fromEntries(
      Object.entries(flags).map(([k, v]) => [
        k,
        typeof v === 'string' && v.startsWith('/run/secrets/')
          ? path.join(dir, 'secrets', path.basename(v))
          : v,
      ]),
    ) as CodecServerFlags;
    attempt(() => {
      if (!loadKeyRing(env)) problems.push('no key ring: NETCHECK_ENCRYPTION_KEYS_FILE');
    });
    codecServerSettings(local, env, problems);
  } else {
    // setup, and the commands of the `netcheck` service: clients.
    attempt(() => dataConverterFromEnv(env));
    attempt(() => clientDefaults(env));
    attempt(() => resolveTaskQueue(undefined, env));
    if (Object.keys(env).some((k) => k.startsWith('NETCHECK_SUBJECT_KEY')))
      attempt(() => resolveSubjectKey(undefined, env));
  }
  return problems;
}

// ---- the contract ----

describe('docker-compose.yml: each netcheck service as its code reads it', () => {
  it('runs the netcheck image for exactly the topology services', () => {
    expect(
      netcheckServices(base)
        .map(([n]) => n)
        .sort(),
    ).toEqual(NETCHECK_SERVICES.map((s) => s.name).sort());
  });

  for (const spec of NETCHECK_SERVICES) {
    it(`${spec.name}: sets only variables the registry lists for ${spec.roles.join(', ')}, no secret as a value`, () => {
      const problems = environmentProblems(spec.roles, environment(base.services[spec.name]!)).map(
        (p) => `${spec.name}: ${p.problem}`,
      );
      expect(problems).toEqual([]);
    });

    it(`${spec.name}: its own configuration loader accepts the rendered environment`, async () => {
      const dir = path.join(scratch, 'base');
      // The simulator first: it writes the key the worker reads.
      await loaderProblems(base, 'simulator', dir);
      const problems = (await loaderProblems(base, spec.name, dir)).map((p) => `${spec.name}: ${p}`);
      expect(problems).toEqual([]);
    });
  }

  it('the image sets only registered variables (its ENV applies to every service)', () => {
    for (const name of Object.keys(imageEnv).filter((n) => n.startsWith('NETCHECK_'))) {
      expect(SETTINGS, `Dockerfile ENV ${name}`).toHaveProperty(name);
    }
    expect(imageEnv.NETCHECK_HEALTH_PORT, 'the worker serves /readyz for the image health check').toMatch(
      /^\d+$/,
    );
  });

  it('reaches the bundled simulator over plain http by the worker opt-in alone, which only the simulator may use', () => {
    const worker = environment(base.services.worker!);
    const host = worker.NETCHECK_SIMULATOR_HOST;
    expect(host, 'worker: NETCHECK_SIMULATOR_HOST').toBeDefined();
    expect(
      commandOf(base.services[host!]!)[0],
      `worker: NETCHECK_SIMULATOR_HOST=${host} is a simulator service`,
    ).toBe('simulator');
    expect(new URL(worker.VONAGE_API_BASE_URL!).hostname).toBe(host);
    expect(
      worker.NETCHECK_ALLOW_INSECURE_HTTP,
      'worker: NETCHECK_ALLOW_INSECURE_HTTP (any host) is not needed',
    ).toBeUndefined();
    expect((SETTINGS.NETCHECK_SIMULATOR_HOST as { onlyFor?: string }).onlyFor).toMatch(/simulator/);
  });

  it('wires the codec server to the UI with no secret in the URL, reachable from this machine only', () => {
    const codec = base.services['codec-server']!;
    const ui = environment(base.services['temporal-ui']!);
    const flags = codecFlags(commandOf(codec));
    const endpoint = new URL(ui.TEMPORAL_CODEC_ENDPOINT!);
    expect(endpoint.pathname, 'temporal-ui: TEMPORAL_CODEC_ENDPOINT carries no path (no token)').toBe('/');
    expect(endpoint.username + endpoint.password + endpoint.search).toBe('');
    expect(Number(endpoint.port)).toBe(flags.port);
    // On the host's network, bound to loopback: like `netcheck dev`, no sign-in needed.
    expect(codec.network_mode).toBe('host');
    expect(flags.host).toBe('127.0.0.1');
    const origins = environment(codec).NETCHECK_CODEC_UI_ORIGINS!.split(',');
    expect(origins, 'codec-server: NETCHECK_CODEC_UI_ORIGINS names the UI').toContain(
      `http://localhost:${/127\.0\.0\.1:(\d+):8080/.exec(String(base.services['temporal-ui']!.ports![0]))![1]}`,
    );
  });
});

describe('docker-compose.yml: secrets, ports, images, health', () => {
  it('hands every secret over as a file (compose secrets:), never as a value', () => {
    const secretish = /(PASSWORD|PWD|SECRET|TOKEN|API_KEY|PRIVATE_KEY|SUBJECT_KEY|ENCRYPTION_KEYS)$/;
    for (const [file, doc] of [
      ['docker-compose.yml', base],
      ['+ docker-compose.prod.yml', prod],
    ] as const) {
      for (const [name, service] of Object.entries(doc.services)) {
        for (const [key, value] of Object.entries(environment(service))) {
          const flag = /^(true|false)$/.test(value); // e.g. TEMPORAL_CODEC_PASS_ACCESS_TOKEN=true
          expect(
            secretish.test(key) && value !== '' && !flag,
            `${file} ${name}: ${key} is a secret given as a value`,
          ).toBe(false);
          if (/_FILE$/.test(key) && value.startsWith('/run/secrets/')) {
            expect(
              secretsOf(service),
              `${file} ${name}: ${key} names a secret the service does not get`,
            ).toContain(path.basename(value));
          }
        }
        for (const secret of secretsOf(service)) {
          expect(
            doc.secrets?.[secret]?.file,
            `${file} ${name}: secret ${secret} comes from a file`,
          ).toBeDefined();
        }
      }
    }
    expect(read('docker-compose.yml')).not.toMatch(/PRIVATE KEY-----/);
  });

  it('publishes host ports on 127.0.0.1 only', () => {
    for (const [name, service] of Object.entries(base.services)) {
      for (const port of service.ports ?? []) {
        expect(String(port), `${name}: port ${String(port)} must bind 127.0.0.1`).toMatch(
          /^127\.0\.0\.1:\d+:\d+$/,
        );
      }
    }
  });

  it('pins every image: a digest, Temporal by exact release, or a documented pin exemption', () => {
    const exemptions = (text: string) =>
      [...text.matchAll(/^# pin-exemption: (\S+) — .*pin it with .*$/gm)].map((m) => m[1]!);
    const production = read('docs/production.md');
    const check = (where: string, image: string, exempt: string[]) => {
      const repo = image.split(/[:@]/)[0]!;
      if (/@sha256:[0-9a-f]{64}$/.test(image)) return;
      if (repo.startsWith('temporalio/')) {
        expect(image, `${where}: Temporal image ${image} by exact release`).toMatch(
          /:\d+\.\d+\.\d+(-[A-Za-z0-9.-]+)?$/,
        );
        return;
      }
      expect(exempt, `${where}: image ${image} has no digest and no pin exemption`).toContain(repo);
      expect(image, `${where}: exempt image ${image} still names an exact version`).toMatch(
        /:\d+\.\d+(\.\d+)?-/,
      );
      expect(production, `${where}: the exemption of ${repo} is documented in docs/production.md`).toMatch(
        new RegExp(`Pinning images[\\s\\S]*\`${repo}\``),
      );
    };
    const composeExempt = exemptions(read('docker-compose.yml'));
    for (const [name, service] of Object.entries(base.services)) {
      if (service.build !== undefined) continue;
      check(name, service.image!, composeExempt);
    }
    expect(base.services.temporal!.image).toBe(`temporalio/server:${TEMPORAL_SERVER_VERSION}`);
    expect(TEMPORAL_SERVER_MARKER).toBe(`Server ${TEMPORAL_SERVER_VERSION}`);
    expect(base.services['temporal-schema']!.image).toContain(`admin-tools:${TEMPORAL_SERVER_VERSION}`);
    // The Dockerfile's base image (its ARG default).
    const arg = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1];
    expect(arg, 'Dockerfile: ARG NODE_IMAGE').toBeDefined();
    check('Dockerfile', arg!, exemptions(dockerfile));
  });

  it('depends only on services that exist, and waits for the health checks of long-running ones', () => {
    for (const [name, service] of Object.entries(base.services)) {
      for (const [target, condition] of dependencies(service)) {
        expect(names, `${name} depends on ${target}`).toContain(target);
        const dep = base.services[target]!;
        const oneShot = /^(no|on-failure(:\d+)?)$/.test(dep.restart ?? 'no');
        if (oneShot) {
          expect(condition, `${name} waits for the one-shot ${target} to finish`).toBe(
            'service_completed_successfully',
          );
        } else {
          expect(condition, `${name} waits for ${target} to be healthy`).toBe('service_healthy');
          const hasCheck =
            dep.healthcheck?.test !== undefined ||
            (dep.build !== undefined && /^HEALTHCHECK /m.test(dockerfile));
          expect(hasCheck, `${target} needs a health check (${name} waits for it)`).toBe(true);
        }
      }
    }
  });

  it('starts in order: database, schema, server, namespace, search attributes, workers', () => {
    const conditionOf = (from: string, to: string) =>
      dependencies(base.services[from]!).find(([t]) => t === to)?.[1];
    expect(conditionOf('temporal-schema', 'postgresql')).toBe('service_healthy');
    expect(conditionOf('temporal', 'temporal-schema')).toBe('service_completed_successfully');
    expect(conditionOf('temporal-namespace', 'temporal')).toBe('service_healthy');
    expect(conditionOf('netcheck-setup', 'temporal-namespace')).toBe('service_completed_successfully');
    expect(conditionOf('worker', 'netcheck-setup')).toBe('service_completed_successfully');
    expect(conditionOf('temporal-ui', 'codec-server')).toBe('service_healthy');
  });

  it('lets the workers scale: no fixed container name or host port', () => {
    const worker = base.services.worker!;
    expect(worker.container_name).toBeUndefined();
    expect(worker.ports ?? []).toEqual([]);
  });

  it('documents in .env.example every variable the compose files use, and nothing secret is set there', () => {
    const used = new Set([
      ...usedVariables(read('docker-compose.yml')),
      ...usedVariables(read('docker-compose.prod.yml')),
    ]);
    const documented = new Set([...example.set.keys(), ...example.examples.keys()]);
    for (const name of used) expect(documented, `${name} in .env.example`).toContain(name);
    for (const name of documented) {
      if (name === 'COMPOSE_PROJECT_NAME') continue; // read by Compose itself
      expect(used, `${name} (documented in .env.example) is used by a compose file`).toContain(name);
    }
    for (const [name] of example.set) {
      expect(name, `.env.example sets ${name}, a secret`).not.toMatch(/PASSWORD|SECRET|TOKEN|_KEY$|KEYS$/);
    }
    expect(read('.env.example')).not.toMatch(/derived from the (Vonage )?private key/i);
  });
});

describe('docker-compose.prod.yml over it: real Vonage, keys from files, the codec server with OIDC', () => {
  it('requires the production values (no simulator defaults slip through)', () => {
    expect(() => load(['docker-compose.yml', 'docker-compose.prod.yml'], example.set)).toThrow(/is required/);
  });

  it('gives the worker the real Vonage origin over https, its key as a file, and no simulator opt-in', async () => {
    const worker = environment(prod.services.worker!);
    expect(new URL(worker.VONAGE_API_BASE_URL!).protocol).toBe('https:');
    expect(worker.VONAGE_API_BASE_URL).toBe('https://api-eu.vonage.com');
    expect(
      worker.NETCHECK_SIMULATOR_HOST ?? '',
      'worker: NETCHECK_SIMULATOR_HOST must be unset with real Vonage',
    ).toBe('');
    expect(worker.VONAGE_PRIVATE_KEY_PATH).toBe('/run/secrets/vonage-private-key');
    const problems = (await loaderProblems(prod, 'worker', path.join(scratch, 'prod'))).map(
      (p) => `worker: ${p}`,
    );
    expect(problems).toEqual([]);
  });

  it('runs the codec server beyond loopback only with OIDC and TLS, and the UI forwards the token', async () => {
    const flags = codecFlags(commandOf(prod.services['codec-server']!));
    expect(flags.host).toBe('0.0.0.0');
    expect(flags.tlsCert && flags.tlsKey, 'codec-server: --tls-cert and --tls-key').toBeTruthy();
    const problems = (await loaderProblems(prod, 'codec-server', path.join(scratch, 'prod'))).map(
      (p) => `codec-server: ${p}`,
    );
    expect(problems).toEqual([]);
    const ui = environment(prod.services['temporal-ui']!);
    expect(
      new URL(ui.TEMPORAL_CODEC_ENDPOINT!).protocol,
      'temporal-ui: TEMPORAL_CODEC_ENDPOINT over https',
    ).toBe('https:');
    expect(new URL(ui.TEMPORAL_CODEC_ENDPOINT!).pathname).toBe('/');
    expect(ui.TEMPORAL_CODEC_PASS_ACCESS_TOKEN).toBe('true');
    expect(ui.TEMPORAL_AUTH_PROVIDER_URL).toBe(
      environment(prod.services['codec-server']!).NETCHECK_CODEC_OIDC_ISSUER,
    );
    for (const spec of NETCHECK_SERVICES) {
      const found = environmentProblems(spec.roles, environment(prod.services[spec.name]!)).map(
        (p) => `${spec.name}: ${p.problem}`,
      );
      expect(found).toEqual([]);
    }
  });
});

describe('the topology npm run cluster runs is the one the compose file ships', () => {
  const composeResolver: Resolver = {
    temporal: 'temporal:7233',
    namespace: 'default',
    taskQueue: 'netcheck',
    simulatorUrl: 'http://simulator:9090',
    simulatorHost: 'simulator',
    simulatorKey: `/run/netcheck/keys/${SIMULATOR_KEY_FILE}`,
    applicationId: SIMULATOR_APPLICATION_ID,
    uiOrigins: 'http://localhost:8080,http://127.0.0.1:8080',
    secret: (name) => `/run/secrets/${name}`,
  };

  const listenOf = (service: NetcheckService, command: string[]) => {
    if (!service.listens) return undefined;
    const flag = (n: string) => command[command.indexOf(n) + 1]!;
    return { host: flag('--host'), port: Number(flag('--port')), stateDir: flag('--state-dir') };
  };

  for (const spec of NETCHECK_SERVICES) {
    it(`${spec.name}: same command, environment, secrets and start conditions`, () => {
      const service = base.services[spec.name]!;
      const command = commandOf(service);
      expect(
        command.slice(0, serviceArgs(spec, listenOf(spec, command)).length),
        `${spec.name}: command`,
      ).toEqual(serviceArgs(spec, listenOf(spec, command)));
      expect(environment(service), `${spec.name}: environment`).toEqual(resolveEnv(spec, composeResolver));
      expect(secretsOf(service).sort(), `${spec.name}: secrets`).toEqual([...spec.secrets].sort());
      expect(Object.fromEntries(dependencies(service)), `${spec.name}: depends_on`).toEqual(spec.dependsOn);
      expect(service.profiles !== undefined, `${spec.name}: started on demand only`).toBe(
        spec.onDemand === true,
      );
      if (spec.health && spec.name !== 'worker') {
        expect(JSON.stringify(service.healthcheck?.test), `${spec.name}: health check`).toContain(
          spec.health.path,
        );
      }
    });
  }

  it('the worker health check is the image one, on the /readyz the cluster waits for', () => {
    expect(dockerfile).toMatch(/^HEALTHCHECK [\s\S]*\/readyz/m);
    expect(read('scripts/cluster/index.ts')).toMatch(/waitHealthy\(serviceNamed\('worker'\)\.health!/);
  });

  it('the cluster builds each process from the topology (no environment of its own)', () => {
    const cluster = read('scripts/cluster/index.ts');
    for (const spec of NETCHECK_SERVICES.filter((s) => !s.onDemand)) {
      expect(cluster, `scripts/cluster/index.ts starts ${spec.name} from the topology`).toContain(
        `serviceNamed('${spec.name}')`,
      );
    }
    expect(cluster).toContain("resolveEnv(serviceNamed('netcheck'), resolver)"); // env.sh: the `netcheck` service
    // No variable set by hand, except what the image sets by ENV for every container (per process here).
    const byHand = [...cluster.matchAll(/\b((?:VONAGE|NETCHECK|TEMPORAL)_[A-Z_]+):\s/g)].map((m) => m[1]!);
    expect(byHand.filter((name) => !(name in imageEnv))).toEqual([]);
  });
});

describe('docs/production.md walks from cp .env.example .env to a decoded batch', () => {
  const doc = read('docs/production.md');
  const step = (name: string) =>
    new RegExp(`<!-- step: ${name} -->\\s*\`\`\`sh\\n([\\s\\S]*?)\`\`\``).exec(doc)?.[1];

  it('has every step, in order', () => {
    const order = [...doc.matchAll(/<!-- step: ([a-z-]+) -->/g)].map((m) => m[1]);
    expect(order).toEqual(['env', 'secrets', 'up', 'batch', 'ui']);
  });

  it('its secrets step, run as written, makes files the loaders accept', () => {
    const script = step('secrets');
    expect(script).toBeDefined();
    const dir = mkdtempSync(path.join(scratch, 'walk-'));
    execFileSync('/bin/sh', ['-ec', script!], { cwd: dir });
    for (const secret of Object.keys(base.secrets ?? {})) {
      expect(existsSync(path.join(dir, 'secrets', secret)), `the secrets step makes secrets/${secret}`).toBe(
        true,
      );
    }
    expect(
      loadKeyRing({ NETCHECK_ENCRYPTION_KEYS_FILE: path.join(dir, 'secrets', 'encryption-keys') }),
    ).toBeDefined();
    expect(() =>
      resolveSubjectKey(undefined, { NETCHECK_SUBJECT_KEY_FILE: path.join(dir, 'secrets', 'subject-key') }),
    ).not.toThrow();
  });

  it('its other steps use what the compose file has', () => {
    expect(step('env')).toContain('cp .env.example .env');
    expect(step('up')).toMatch(/docker compose up --build/);
    const batch = step('batch')!;
    expect(batch).toMatch(/docker compose run --rm netcheck batch \/data\/\S+/);
    expect(base.services.netcheck!.volumes).toContain('./data:/data:ro');
    expect(step('ui')).toContain('http://localhost:8080');
  });

  it('documents the pin exemptions', () => {
    expect(doc).toMatch(/### Pinning images/);
  });
});

const dockerCompose = ['/usr/bin/docker-compose', '/usr/local/bin/docker-compose'].find((p) => existsSync(p));
if (!dockerCompose) console.log('docker-compose is not installed: its own `config` check is skipped');
describe.skipIf(!dockerCompose)('docker-compose config', () => {
  it('accepts both files as written', async () => {
    const dir = mkdtempSync(path.join(scratch, 'dc-'));
    const envFile = path.join(dir, 'prod.env');
    writeFileSync(envFile, [...prodEnv].map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
    const { stdout } = await execFileAsync(
      dockerCompose!,
      ['--env-file', '.env.example', '-f', 'docker-compose.yml', 'config', '--services'],
      {
        cwd: projectRoot,
      },
    );
    expect(stdout.trim().split('\n').sort()).toEqual([...names].sort());
    const merged = await execFileAsync(
      dockerCompose!,
      ['--env-file', envFile, '-f', 'docker-compose.yml', '-f', 'docker-compose.prod.yml', 'config'],
      { cwd: projectRoot },
    );
    const rendered = parse(merged.stdout) as ComposeDoc;
    expect(environment(rendered.services.worker!).NETCHECK_SIMULATOR_HOST ?? '').toBe('');
  });
});

describe('Dockerfile', () => {
  const stages = [...dockerfile.matchAll(/^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/gim)].map((m) => ({
    name: m[2],
    index: m.index,
  }));
  const runtime = dockerfile.slice(stages.at(-1)?.index ?? 0);
  const build = dockerfile.slice(stages[0]?.index ?? 0, stages.at(-1)?.index);

  it('is multi-stage, with production dependencies only at run time', () => {
    expect(stages.map((s) => s.name)).toContain('build');
    expect(runtime).toMatch(/COPY --from=build /);
    expect(runtime).toMatch(/npm ci --omit=dev/);
    expect(runtime).not.toMatch(/npm (ci|install)(?![^\n]*--omit=dev)/);
  });

  it('prebuilds the workflow bundle with the encrypting failure converter, so keyed workers take it as it is', () => {
    const line = /build:bundle -- --out (\S+)([^\n]*)/.exec(build);
    expect(line, 'the build stage runs npm run build:bundle').not.toBeNull();
    expect(line![2], 'Dockerfile: build:bundle --encrypt-failures').toContain('--encrypt-failures');
    expect(imageEnv.NETCHECK_WORKFLOW_BUNDLE).toBe(`/app/${line![1]}`);
  });

  it('runs `netcheck worker` as a non-root user, with a health check', () => {
    const users = [...runtime.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
    expect(runtime).toMatch(/^ENTRYPOINT \["netcheck"\]$/m);
    expect(runtime).toMatch(/^CMD \["worker"\]$/m);
    expect(runtime).toMatch(/^HEALTHCHECK /m);
  });

  it('copies every source folder the build compiles, none of which .dockerignore drops; keeps secrets out', () => {
    const tsconfigBuild = JSON.parse(read('tsconfig.build.json')) as { include: string[] };
    const copied = new Set([...build.matchAll(/^COPY (\S+) \.\/\1$/gm)].map((m) => m[1]));
    for (const folder of tsconfigBuild.include) expect(copied, `COPY ${folder}`).toContain(folder);
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const folder of copied) expect(ignored, `${folder} is in .dockerignore`).not.toContain(folder);
    for (const secret of ['.env', 'node_modules', '.netcheck', 'secrets/']) expect(ignored).toContain(secret);
  });
});
