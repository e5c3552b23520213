import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';

type RequestId = string | number;

interface Call {
  /** Settles when the calls this one must follow have ended. */
  readonly gate: Promise<unknown>;
  readonly end: () => void;
}

/**
 * Tool calls run in the order the client sent them where order matters: a call that writes (a point, a
 * restore, an undo) starts once every call read before it has ended, and a call that reads once the
 * writes read before it have ended; reads run side by side. A client that sends `restore_point` and
 * `undo_restore` without waiting for the first answer gets the restore undone, not the undo run first.
 * The order is taken as the requests are read, before the server's own asynchronous steps (checking
 * the arguments) could change it.
 */
export class CallOrder {
  private lastWrite: Promise<unknown> = Promise.resolve();
  private readsSinceWrite: Array<Promise<unknown>> = [];
  private readonly calls = new Map<RequestId, Call>();

  constructor(private readonly writes: (tool: string) => boolean) {}

  /** Notes each tool call `transport` (connected) reads, and ends its turn when it is answered or cancelled. */
  follow(transport: Transport): void {
    const receive = transport.onmessage;
    transport.onmessage = (message, extra) => {
      if ('method' in message && 'id' in message && message.method === 'tools/call') {
        const tool = (message.params as { name?: unknown } | undefined)?.name;
        this.arrived(message.id, typeof tool === 'string' && this.writes(tool));
      } else if ('method' in message && message.method === 'notifications/cancelled') {
        const id = (message.params as { requestId?: unknown } | undefined)?.requestId;
        if (typeof id === 'string' || typeof id === 'number') this.calls.get(id)?.end();
      }
      receive?.(message, extra);
    };
    const send = transport.send.bind(transport);
    transport.send = async (message, options) => {
      // an answer without the tool having run (arguments refused before it): the next calls need not wait for it
      if (!('method' in message) && 'id' in message && message.id !== undefined) this.calls.get(message.id)?.end();
      return send(message, options);
    };
  }

  /** Runs the work of call `id` in its turn (at once for a call `follow` did not see). */
  async run<T>(id: RequestId, work: () => Promise<T>): Promise<T> {
    const call = this.calls.get(id);
    if (!call) return work();
    await call.gate;
    try {
      return await work();
    } finally {
      call.end();
    }
  }

  private arrived(id: RequestId, writes: boolean): void {
    let end!: () => void;
    const ended = new Promise<void>((resolve) => (end = resolve));
    const gate = writes ? Promise.all([this.lastWrite, ...this.readsSinceWrite]) : this.lastWrite;
    if (writes) {
      this.lastWrite = ended;
      this.readsSinceWrite = [];
    } else {
      this.readsSinceWrite.push(ended);
    }
    this.calls.set(id, {
      gate,
      end: () => {
        end();
        if (this.calls.get(id)?.gate === gate) this.calls.delete(id);
      },
    });
  }
}
