// Public API of interproc.
export { SharedMemory } from './shared-memory';
export type { CreateOptions, FromFdOptions, OpenOptions, OpenOrCreateOptions } from './shared-memory';
export * as futex from './futex';
export type { WaitResult, FutexArray, WaitAsyncOptions } from './futex';
export { AbortError, InterprocError } from './errors';
export { Mutex, MutexGuard } from './mutex';
export { Semaphore, SemaphorePermit } from './semaphore';
export type { SemaphoreOptions } from './semaphore';
export { Condition } from './condition';
export { Barrier } from './barrier';
export type { BarrierOptions } from './barrier';
export { RwLock, RwLockGuard } from './rwlock';
export type { WaitOptions, WaitSyncOptions, NamedOptions } from './sync-common';
export { OwnerDeadError, BrokenBarrierError, TimeoutError } from './sync-errors';
export { listen, connect, Channel, Server } from './socket';
export type {
  SocketAddress, SocketKind, Codec, Message as ChannelMessage, PeerCredentials, ChannelOptions, ConnectOptions, ListenOptions,
  ReceiveOptions as ChannelReceiveOptions,
} from './socket';
export { Mailbox, MailboxGroup } from './mailbox';
export type {
  Doorbell, MailboxGroupCreateOptions, MailboxGroupJoinOptions, MailboxGroupOptions, MemberInfo, MemberState,
  Message as MailboxMessage, MessageData, MessageView, ReceiveOptions as MailboxReceiveOptions, ReceiveManyOptions as MailboxReceiveManyOptions, SendOptions, SyncOptions,
} from './mailbox';
