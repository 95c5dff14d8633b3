// An EventEmitter whose own events have typed listeners: `on('message', (m) => ...)` gets the
// listener's arguments checked. Any other event name keeps EventEmitter's signature.
import { EventEmitter } from 'node:events';

/** Listener signatures by event name. */
// biome-ignore lint/suspicious/noExplicitAny: listeners of any signature (each map entry narrows it)
export type EventMap = { [event: string]: (...args: any[]) => void };

export class TypedEmitter<M extends EventMap> extends EventEmitter {
  override on<E extends keyof M & string>(event: E, listener: M[E]): this;
  // biome-ignore lint/suspicious/noExplicitAny: EventEmitter's own signature, for any other event
  override on<E extends string | symbol>(event: E extends keyof M ? never : E, listener: (...args: any[]) => void): this;
  // biome-ignore lint/suspicious/noExplicitAny: EventEmitter's own signature
  override on(event: string | symbol, listener: (...args: any[]) => void): this {
    return super.on(event, listener);
  }

  override once<E extends keyof M & string>(event: E, listener: M[E]): this;
  // biome-ignore lint/suspicious/noExplicitAny: EventEmitter's own signature, for any other event
  override once<E extends string | symbol>(event: E extends keyof M ? never : E, listener: (...args: any[]) => void): this;
  // biome-ignore lint/suspicious/noExplicitAny: EventEmitter's own signature
  override once(event: string | symbol, listener: (...args: any[]) => void): this {
    return super.once(event, listener);
  }
}
