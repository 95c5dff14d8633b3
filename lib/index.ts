// Public API of interproc.
export { SharedMemory } from './shm/shared-memory';
export type { CreateOptions, FromFdOptions, OpenOptions, OpenOrCreateOptions } from './shm/shared-memory';
export * as futex from './shm/futex';
export type { WaitResult, FutexArray, WaitAsyncOptions } from './shm/futex';
export { AbortError, InterprocError, TimeoutError } from './internal/errors';
export type { ErrorCode } from './internal/errors';
export { Mutex, MutexGuard } from './sync/mutex';
export { Semaphore, SemaphorePermit } from './sync/semaphore';
export type { SemaphoreOptions } from './sync/semaphore';
export { Condition } from './sync/condition';
export { Barrier } from './sync/barrier';
export type { BarrierOptions } from './sync/barrier';
export { RwLock, RwLockGuard } from './sync/rwlock';
export type { WaitOptions, WaitSyncOptions, NamedOptions } from './sync/object';
export { OwnerDeadError, BrokenBarrierError } from './sync/errors';
export { listen, connect } from './channel/connect';
export { Channel } from './channel/channel';
export type { ChannelEvents } from './channel/channel';
export { Server } from './channel/server';
export type { ServerEvents } from './channel/server';
export type {
  SocketAddress,
  SocketKind,
  Codec,
  Message as ChannelMessage,
  PeerCredentials,
  ChannelOptions,
  ConnectOptions,
  ListenOptions,
  ReceiveOptions as ChannelReceiveOptions,
} from './channel/types';
export { MailboxGroup } from './mailbox/group';
export { Mailbox } from './mailbox/mailbox';
export type {
  Doorbell,
  MailboxGroupCreateOptions,
  MailboxGroupJoinOptions,
  MailboxGroupOptions,
  ReceiveOptions as MailboxReceiveOptions,
  ReceiveManyOptions as MailboxReceiveManyOptions,
  SendOptions,
  SyncOptions,
} from './mailbox/group';
export type { Message as MailboxMessage, MessageView } from './mailbox/inbox';
export type { MessageData } from './mailbox/outbox';
export type { MemberInfo, MemberState } from './mailbox/segment';
export { MailboxTransport } from './rpc/mailbox-transport';
export type { MailboxTransportOptions } from './rpc/mailbox-transport';
export { ChannelTransport } from './rpc/channel-transport';
export type { Transport, TransportEvents, PeerId } from './rpc/transport';
export { ProcessGroup } from './group/group';
export type {
  GroupMessage,
  GroupReceiveOptions,
  GroupSendOptions,
  GroupEvents,
  RootOptions,
  AllReduceOptions,
  TransportKind,
} from './group/group';
export { joinGroup } from './group/join';
export type { JoinGroupOptions } from './group/join';
export { spawnGroup } from './group/spawn';
export type { SpawnGroupOptions, SpawnedGroup, MemberExit } from './group/spawn';
export { ANY_SOURCE, ANY_TAG } from './group/matching';
export { launchEnvironment } from './group/environment';
export type { LaunchEnvironment, Launcher } from './group/environment';
export type { ReduceOp, ReduceOpName } from './group/ops';
export type { NumericArray } from './group/data';
