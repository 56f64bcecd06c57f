/**
 * docker-compose.yml, .env.example and the Dockerfile, checked without a Docker engine: the
 * compose file parses, every service it names exists, every variable it uses is documented, the
 * workers can be scaled, data lives in named volumes, and the image is multi-stage, non-root and
 * ships the prebuilt workflow bundle. When Debian's `docker-compose` is installed, its own
 * `config` check runs too.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { projectRoot } from '../../cli/stack/temporal-cli.js';
import { TEMPORAL_SERVER_MARKER } from '../../cli/stack/temporal-cli.js';
import { TEMPORAL_SERVER_VERSION } from '../../scripts/cluster/server.js';

const execFileAsync = promisify(execFile);

const composeText = readFileSync(path.join(projectRoot, 'docker-compose.yml'), 'utf8');
const envExampleText = readFileSync(path.join(projectRoot, '.env.example'), 'utf8');
const dockerfileText = readFileSync(path.join(projectRoot, 'Dockerfile'), 'utf8');

type Json = Record<string, unknown>;
interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  entrypoint?: string[] | string;
  depends_on?: string[] | Record<string, { condition?: string }>;
  environment?: Record<string, string | null> | string[];
  ports?: unknown[];
  volumes?: (string | Json)[];
  healthcheck?: { test?: unknown; disable?: boolean };
  container_name?: string;
  restart?: string;
  deploy?: Json;
}

/** Every `${NAME…}` the file interpolates (`$$` is a literal dollar for the container's shell). */
function usedVariables(text: string): Set<string> {
  const names = new Set<string>();
  for (const match of text.replace(/\$\$/g, '').matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g))
    names.add(match[1]!);
  return names;
}

/** `NAME=value` lines of .env.example, and the commented `# NAME=value` ones (documented defaults). */
function envExample(text: string): { set: Map<string, string>; documented: Set<string> } {
  const set = new Map<string, string>();
  const documented = new Set<string>();
  for (const line of text.split('\n')) {
    const active = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (active) {
      set.set(active[1]!, active[2]!);
      documented.add(active[1]!);
      continue;
    }
    const commented = /^#\s*([A-Z][A-Z0-9_]*)=/.exec(line);
    if (commented) documented.add(commented[1]!);
  }
  return { set, documented };
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

function load(env: Map<string, string>): { services: Record<string, Service>; volumes: Json } {
  const doc = parse(interpolate(composeText, env), { merge: true }) as {
    services: Record<string, Service>;
    volumes?: Json;
  };
  return { services: doc.services, volumes: doc.volumes ?? {} };
}

const example = envExample(envExampleText);
const { services, volumes } = load(example.set);
const names = Object.keys(services);

function dependencies(service: Service): [string, string][] {
  const deps = service.depends_on ?? [];
  if (Array.isArray(deps)) return deps.map((d) => [d, 'service_started']);
  return Object.entries(deps).map(([name, d]) => [name, d.condition ?? 'service_started']);
}

function environment(service: Service): Record<string, string | null> {
  const env = service.environment ?? {};
  if (!Array.isArray(env)) return env;
  return Object.fromEntries(env.map((entry) => [entry.split('=')[0]!, entry.split('=')[1] ?? null]));
}

describe('docker-compose.yml', () => {
  it('has the services of the topology', () => {
    for (const name of [
      'postgresql',
      'temporal-schema',
      'temporal',
      'temporal-namespace',
      'netcheck-setup',
      'temporal-ui',
      'codec-server',
      'worker',
      'simulator',
    ]) {
      expect(names, `service ${name}`).toContain(name);
    }
  });

  it('depends only on services that exist, with start conditions their targets can meet', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [target, condition] of dependencies(service)) {
        expect(names, `${name} depends on ${target}`).toContain(target);
        expect(['service_started', 'service_healthy', 'service_completed_successfully']).toContain(condition);
        const dep = services[target]!;
        if (condition === 'service_healthy') {
          expect(dep.healthcheck?.test, `${target} needs a healthcheck (${name} waits for it)`).toBeDefined();
        }
        if (condition === 'service_completed_successfully') {
          // A one-shot job: restarting it forever would keep its dependants from ever starting.
          expect(dep.restart ?? 'no', `${target} is a one-shot job`).toMatch(/^(no|on-failure(:\d+)?)$/);
        }
      }
    }
  });

  it('starts in order: database, schema, server, namespace, search attributes, workers', () => {
    const conditionOf = (from: string, to: string) =>
      dependencies(services[from]!).find(([target]) => target === to)?.[1];
    expect(conditionOf('temporal-schema', 'postgresql')).toBe('service_healthy');
    expect(conditionOf('temporal', 'temporal-schema')).toBe('service_completed_successfully');
    expect(conditionOf('temporal-namespace', 'temporal')).toBe('service_healthy');
    expect(conditionOf('netcheck-setup', 'temporal-namespace')).toBe('service_completed_successfully');
    expect(conditionOf('worker', 'netcheck-setup')).toBe('service_completed_successfully');
    expect(conditionOf('worker', 'simulator')).toBe('service_healthy');
    expect(conditionOf('temporal-ui', 'codec-server')).toBeDefined();
  });

  it('names only services (or localhost) as the hosts it connects to', () => {
    const hostValues: [string, string][] = [];
    for (const [name, service] of Object.entries(services)) {
      for (const [key, value] of Object.entries(environment(service))) {
        if (typeof value !== 'string') continue;
        const url = /^https?:\/\/([^:/]+)/.exec(value);
        const hostPort = /^([a-z][a-z0-9-]*):\d+$/.exec(value);
        const host = url?.[1] ?? hostPort?.[1] ?? (/(_SEEDS|_HOST)$/.test(key) ? value : undefined);
        if (host) hostValues.push([`${name}.${key}`, host]);
      }
    }
    expect(hostValues.length).toBeGreaterThan(5);
    for (const [where, host] of hostValues) {
      if (host === 'localhost' || host === '127.0.0.1' || host.includes('.')) continue; // the host's browser, or real Vonage
      expect(names, `${where} connects to ${host}`).toContain(host);
    }
    expect(environment(services.worker!).TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(environment(services.worker!).VONAGE_API_BASE_URL).toBe('http://simulator:9090');
    expect(environment(services['temporal-ui']!).TEMPORAL_CODEC_ENDPOINT).toMatch(/^http:\/\/localhost:\d+$/);
  });

  it('documents in .env.example every variable it uses, and uses every variable documented there', () => {
    const used = usedVariables(composeText);
    // Variables passed through from .env without a value in the file (`NAME:` with no value).
    for (const service of Object.values(services)) {
      for (const [key, value] of Object.entries(environment(service))) if (value === null) used.add(key);
    }
    expect(used.size).toBeGreaterThan(10);
    for (const name of used) expect(example.documented, `${name} in .env.example`).toContain(name);
    for (const name of example.documented) {
      if (name === 'COMPOSE_PROJECT_NAME') continue; // read by Compose itself
      expect(used, `${name} (documented) is used by docker-compose.yml`).toContain(name);
    }
  });

  it('keeps secrets out of the file: the database password must come from .env', () => {
    expect(() => load(new Map())).toThrow(/POSTGRES_PASSWORD is required/);
    expect(composeText).not.toMatch(/PRIVATE KEY-----/);
    expect(composeText).not.toMatch(/(PASSWORD|PWD|TOKEN|KEYS?)\s*:\s*['"]?[A-Za-z0-9+/=-]{6,}['"]?\s*$/m);
  });

  it('lets the workers scale: no fixed container name or host port', () => {
    const worker = services.worker!;
    expect(worker.container_name).toBeUndefined();
    expect(worker.ports ?? []).toEqual([]);
    expect(worker.build ?? worker.image).toBeDefined();
    // Without a name or port of their own, replicas differ only by Compose's index.
    expect(worker.deploy?.replicas ?? 1).toBeGreaterThanOrEqual(1);
  });

  it('keeps data in named volumes declared at the top level', () => {
    let mounts = 0;
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const source =
          typeof volume === 'string'
            ? volume.split(':').length > 1
              ? volume.split(':')[0]!
              : undefined
            : (volume.source as string | undefined);
        expect(source, `${name}: anonymous volume ${JSON.stringify(volume)}`).toBeDefined();
        if (source!.startsWith('.') || source!.startsWith('/')) continue; // a bind mount the user chose
        expect(Object.keys(volumes), `${name} mounts ${source}`).toContain(source);
        mounts++;
      }
    }
    expect(mounts).toBeGreaterThanOrEqual(3); // PostgreSQL's data, the simulator's keys, the workers' keys
    expect(Object.keys(volumes)).toContain('postgres-data');
  });

  it('pins every image to a tag, and Temporal to the server release netcheck is tested with', () => {
    for (const [name, service] of Object.entries(services)) {
      expect(service.image, `${name} image`).toMatch(/^[a-z0-9./-]+:[A-Za-z0-9._-]+$/);
      expect(service.image).not.toMatch(/:latest$/);
    }
    expect(services.temporal!.image).toBe(`temporalio/server:${TEMPORAL_SERVER_VERSION}`);
    expect(TEMPORAL_SERVER_MARKER).toBe(`Server ${TEMPORAL_SERVER_VERSION}`);
    expect(services['temporal-schema']!.image).toContain(`admin-tools:${TEMPORAL_SERVER_VERSION}`);
  });

  it('runs the netcheck image for setup, worker, simulator and codec server', () => {
    for (const name of ['netcheck-setup', 'worker', 'simulator', 'codec-server']) {
      expect(services[name]!.build, `${name} builds the Dockerfile`).toBe('.');
    }
    expect(services['netcheck-setup']!.command).toEqual(['setup']);
    expect(services.worker!.command).toBeUndefined(); // the image's default: `netcheck worker`
    expect(services.simulator!.command?.[0]).toBe('simulator');
    expect(services['codec-server']!.command?.[0]).toBe('codec-server');
  });

  const dockerCompose = ['/usr/bin/docker-compose', '/usr/local/bin/docker-compose'].find((p) =>
    existsSync(p),
  );
  if (!dockerCompose) console.log('docker-compose is not installed: its own `config` check is skipped');
  it.skipIf(!dockerCompose)('passes `docker-compose config` with .env.example', async () => {
    const { stdout } = await execFileAsync(
      dockerCompose!,
      ['--env-file', '.env.example', '-f', 'docker-compose.yml', 'config', '--services'],
      { cwd: projectRoot },
    );
    expect(stdout.trim().split('\n').sort()).toEqual([...names].sort());
  });
});

describe('Dockerfile', () => {
  const stages = [...dockerfileText.matchAll(/^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/gim)].map((m) => ({
    image: m[1]!,
    name: m[2],
    index: m.index,
  }));
  const runtime = dockerfileText.slice(stages.at(-1)?.index ?? 0);
  const build = dockerfileText.slice(stages[0]?.index ?? 0, stages.at(-1)?.index);

  it('is multi-stage: a build stage and a runtime stage that copies from it', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(stages.map((s) => s.name)).toContain('build');
    expect(runtime).toMatch(/COPY --from=build /);
  });

  it('installs only production dependencies in the runtime stage', () => {
    expect(runtime).toMatch(/npm ci --omit=dev/);
    expect(runtime).not.toMatch(/npm (ci|install)(?![^\n]*--omit=dev)/);
  });

  it('prebuilds the workflow bundle and points the worker at it', () => {
    const out = /build:bundle -- --out (\S+)/.exec(build)?.[1];
    expect(out, 'the build stage runs npm run build:bundle').toBeDefined();
    const bundleEnv = /NETCHECK_WORKFLOW_BUNDLE=(\S+)/.exec(runtime)?.[1];
    expect(bundleEnv).toBe(`/app/${out}`);
    expect(runtime).toMatch(/COPY --from=build \/src\/dist \.\/dist/);
    expect(out!.startsWith('dist/')).toBe(true);
  });

  it('runs as a non-root user, with `netcheck worker` as the default', () => {
    const users = [...runtime.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
    expect(runtime).toMatch(/^ENTRYPOINT \["netcheck"\]$/m);
    expect(runtime).toMatch(/^CMD \["worker"\]$/m);
  });

  it('copies every source folder the build compiles, none of which .dockerignore drops', () => {
    const tsconfigBuild = JSON.parse(readFileSync(path.join(projectRoot, 'tsconfig.build.json'), 'utf8')) as {
      include: string[];
    };
    const copied = new Set([...build.matchAll(/^COPY (\S+) \.\/\1$/gm)].map((m) => m[1]));
    for (const folder of tsconfigBuild.include) {
      expect(copied, `COPY ${folder}`).toContain(folder);
    }
    expect(copied).toContain('scripts'); // build-bundle.ts and the CLI's imports
    const ignored = readFileSync(path.join(projectRoot, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const folder of copied) expect(ignored, `${folder} is in .dockerignore`).not.toContain(folder);
    for (const secret of ['.env', 'node_modules', '.netcheck']) expect(ignored).toContain(secret);
  });
});
