// An EventEmitter whose events are the ones it has: `on('message', (m) => ...)` gets the listener's
// arguments checked, and a name it does not emit (`on('conection', ...)`) does not compile. The
// events every EventEmitter has ('newListener', 'removeListener') are part of every map.
import { EventEmitter } from 'node:events';

// biome-ignore lint/suspicious/noExplicitAny: listeners of any signature (each map entry narrows it)
type AnyListener = (...args: any[]) => void;

/** Listener signatures by event name. */
export type EventMap = { [event: string]: AnyListener };

/** The events of every EventEmitter. */
export type EmitterEvents = {
  newListener: (event: string | symbol, listener: AnyListener) => void;
  removeListener: (event: string | symbol, listener: AnyListener) => void;
};

/** An emitter's event names (its own and EventEmitter's). */
export type EventName<M extends EventMap> = keyof (M & EmitterEvents) & string;
/** The listener of event E. */
export type ListenerOf<M extends EventMap, E extends EventName<M>> = (M & EmitterEvents)[E];

export class TypedEmitter<M extends EventMap> extends EventEmitter {
  override on<E extends EventName<M>>(event: E, listener: ListenerOf<M, E>): this {
    return super.on(event, listener);
  }
  override addListener<E extends EventName<M>>(event: E, listener: ListenerOf<M, E>): this {
    return super.addListener(event, listener);
  }
  override prependListener<E extends EventName<M>>(event: E, listener: ListenerOf<M, E>): this {
    return super.prependListener(event, listener);
  }
  override once<E extends EventName<M>>(event: E, listener: ListenerOf<M, E>): this {
    return super.once(event, listener);
  }
  override prependOnceListener<E extends EventName<M>>(event: E, listener: ListenerOf<M, E>): this {
    return super.prependOnceListener(event, listener);
  }
  override off<E extends EventName<M>>(event: E, listener: ListenerOf<M, E>): this {
    return super.off(event, listener);
  }
  override removeListener<E extends EventName<M>>(event: E, listener: ListenerOf<M, E>): this {
    return super.removeListener(event, listener);
  }
  override emit<E extends EventName<M>>(event: E, ...args: Parameters<ListenerOf<M, E>>): boolean {
    return super.emit(event, ...args);
  }
}
