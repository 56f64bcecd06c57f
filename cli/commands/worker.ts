/** `netcheck worker` and `netcheck setup`: the standalone worker, and the namespace's search attributes. */
import { loadConfig, runWorker, searchAttributesReported } from '../../worker/index.js';
import { EXIT, type ExitCode } from '../errors.js';
import {
  missingAttributesWarning,
  registerSearchAttributes,
  searchAttributeState,
} from '../search-attributes.js';
import { withClient } from '../temporal.js';

export async function workerCommand(options: {
  rate?: number;
  taskQueue?: string;
  metricsPort?: number;
  healthPort?: number;
  profile?: string;
}): Promise<ExitCode> {
  // Flags win over the environment; one validation step reports every problem (exit 2).
  const env = {
    ...process.env,
    ...(options.taskQueue !== undefined ? { NETCHECK_TASK_QUEUE: options.taskQueue } : {}),
    ...(options.profile !== undefined ? { NETCHECK_PROFILE: options.profile } : {}),
    ...(options.rate !== undefined ? { NETCHECK_RATE_LIMIT: String(options.rate) } : {}),
    ...(options.metricsPort !== undefined ? { NETCHECK_METRICS_PORT: String(options.metricsPort) } : {}),
    ...(options.healthPort !== undefined ? { NETCHECK_HEALTH_PORT: String(options.healthPort) } : {}),
  };
  const config = loadConfig(env);
  await withClient(async ({ client, namespace }) => {
    const warning = missingAttributesWarning(await searchAttributeState(client, namespace), namespace);
    if (warning) {
      console.error(warning);
      searchAttributesReported(namespace); // the worker's plugin need not say it again
    }
  });
  if (config.rateLimit !== undefined) {
    console.error(
      `rate limit: ${config.rateLimit} Vonage requests/s for task queue "${config.taskQueue}" (all its workers together)`,
    );
  }
  await runWorker(config, env);
  return EXIT.OK;
}

export async function setupCommand(): Promise<ExitCode> {
  return withClient(async ({ client, namespace, address }) => {
    const { added, present } = await registerSearchAttributes(client, namespace);
    console.log(`namespace "${namespace}" at ${address}:`);
    if (added.length > 0) console.log(`  registered: ${added.join(', ')}`);
    if (present.length > 0) console.log(`  already registered: ${present.join(', ')}`);
    console.log('netcheck search attributes are ready (all Keyword).');
    return EXIT.OK;
  });
}
