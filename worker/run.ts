/** `npm run worker`: the standalone worker; exits 2 with a message naming what to fix on bad configuration. */
import { ConfigurationError } from '../domain/errors.js';
import { runWorker } from './main.js';

try {
  await runWorker();
} catch (err) {
  if (err instanceof ConfigurationError) {
    console.error(err.message);
    process.exit(2);
  }
  throw err;
}
