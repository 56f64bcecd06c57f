/** Reading stdin: one phone number (`netcheck check -`, `netcheck find -`) or a whole input, capped. */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { UsageError } from './errors.js';

/**
 * The first non-empty line of stdin: a number given this way is in neither argv (`ps`) nor the
 * shell history. On a terminal it asks for it.
 */
export async function numberFromStdin(
  input: Readable & { isTTY?: boolean } = process.stdin,
): Promise<string> {
  if (input.isTTY) process.stderr.write('phone number (E.164, then Enter): ');
  const lines = createInterface({ input, terminal: false, crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      if (line.trim() !== '') return line.trim();
    }
  } finally {
    lines.close();
  }
  throw new UsageError(
    'no phone number on stdin: pipe it in, e.g. `printf \'%s\\n\' "$NUMBER" | netcheck check - --op sim-swap`',
  );
}

/** All of stdin, refused with a UsageError once it passes `maxBytes`. */
export async function readCapped(input: Readable, maxBytes: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > maxBytes) {
      input.destroy();
      throw new UsageError(
        `${what} is larger than ${maxBytes / 1024 / 1024} MiB; split it into several batches`,
      );
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}
