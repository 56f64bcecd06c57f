/**
 * The simulator in a process of its own, standing in for Vonage: the parent raises its priority
 * (when allowed) so other work on the machine cannot stall its event loop, which would time
 * arrivals late and squeeze 1-s windows the client never filled. Controlled over IPC.
 */
import { startSimulator, type SimulatorOptions, type SimulatorStats } from '../simulator/index.js';

export type SimulatorRequest =
  { kind: 'start'; options: Omit<SimulatorOptions, 'now'> } | { kind: 'stats' } | { kind: 'stop' };

export type SimulatorReply =
  | { kind: 'started'; url: string }
  | { kind: 'stats'; stats: SimulatorStats }
  | { kind: 'stopped' }
  | { kind: 'error'; message: string };

const send = (message: SimulatorReply) =>
  new Promise<void>((resolve) => process.send!(message, undefined, {}, () => resolve()));

let simulator: Awaited<ReturnType<typeof startSimulator>> | undefined;

process.on('message', (message: SimulatorRequest) => {
  const handle = async () => {
    switch (message.kind) {
      case 'start':
        simulator = await startSimulator(message.options);
        return send({ kind: 'started', url: simulator.url });
      case 'stats':
        return send({ kind: 'stats', stats: simulator!.stats() });
      case 'stop':
        await simulator?.close();
        await send({ kind: 'stopped' });
        process.disconnect();
    }
  };
  handle().catch((err: unknown) => send({ kind: 'error', message: String(err) }));
});
