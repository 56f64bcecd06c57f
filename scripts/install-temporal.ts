/** `npm run temporal:install`: prints the path of the pinned Temporal CLI, building it if needed. */
import { ensureTemporalCli } from '../cli/stack/temporal-cli.js';

try {
  console.log(await ensureTemporalCli());
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
}
