#!/usr/bin/env node
/** The `netcheck` executable: see program.ts (and `netcheck --help`). */
import { run } from './program.js';

const code = await run(process.argv);
// Exit now: a command is over when its action resolves (open handles would only delay it).
process.exit(code);
