// Public API of interproc.
export { SharedMemory } from './shared-memory';
export type { CreateOptions, OpenOptions, OpenOrCreateOptions } from './shared-memory';
export * as futex from './futex';
export type { WaitResult, FutexArray, WaitAsyncOptions } from './futex';
export { AbortError, InterprocError } from './errors';
export { listen, connect, Channel, Server } from './socket';
export type {
  SocketAddress, SocketKind, Codec, Message, PeerCredentials, ChannelOptions, ConnectOptions, ListenOptions, ReceiveOptions,
} from './socket';
