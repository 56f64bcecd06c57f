/** Port choice for the embedded stack: the default when free, else any free port (and say so). */
import net from 'node:net';
import { UsageError } from '../errors.js';

/** Whether nothing listens on 127.0.0.1:port (by binding it for a moment). */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port the OS considers free right now. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface PortRequest {
  /** What listens there, for messages ("Temporal", "Temporal UI", "simulator"). */
  label: string;
  /** The default port. */
  preferred: number;
  /** Given on the command line (then it must be free; 0 = any free port). */
  explicit?: number;
  /** Flag that sets it, for messages. */
  flag: string;
}

/**
 * Picks the ports of the stack. An explicit busy port is an error (exit 2); a busy default is
 * replaced by a free port, with a notice. Ports already handed out are never reused.
 */
export async function choosePorts(
  requests: PortRequest[],
  notice: (line: string) => void,
): Promise<number[]> {
  const taken = new Set<number>();
  const chosen: number[] = [];
  for (const r of requests) {
    let port: number;
    if (r.explicit !== undefined && r.explicit !== 0) {
      if (taken.has(r.explicit) || !(await isPortFree(r.explicit))) {
        throw new UsageError(
          `${r.flag} ${r.explicit}: port ${r.explicit} is in use; choose another (0 = any free port)`,
        );
      }
      port = r.explicit;
    } else if (r.explicit === undefined && !taken.has(r.preferred) && (await isPortFree(r.preferred))) {
      port = r.preferred;
    } else {
      do port = await freePort();
      while (taken.has(port));
      if (r.explicit === undefined)
        notice(`Port ${r.preferred} (${r.label}) is busy; using ${port} instead.`);
    }
    taken.add(port);
    chosen.push(port);
  }
  return chosen;
}
