// Public API of interproc.
// The declarations use Node's types (Buffer, EventEmitter, AbortSignal): a program that compiles
// against them gets @types/node through this reference, whatever its own "types" setting.
/// <reference types="node" preserve="true" />
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
export { RpcEndpoint } from './rpc/endpoint';
export type {
  RemoteError,
  ReplyData,
  RequestContext,
  RequestOptions,
  RpcEndpointEvents,
  RpcEndpointOptions,
  RpcHandler,
} from './rpc/endpoint';
export type { RemoteErrorInfo } from './rpc/frame';
export { RpcClient, RpcServer, rpcClient, serve } from './rpc/connect';
export type { RpcTarget } from './rpc/connect';
export { Monitor, monitor } from './monitor/monitor';
export type { DownInfo, DownReason, MemberTarget, MonitorEvents, MonitorTarget } from './monitor/monitor';
export { Link, link } from './monitor/link';
export type { LinkEvents, LinkOptions, ProcessDownError } from './monitor/link';
export { Store } from './store/store';
export type {
  StoreCommonOptions,
  StoreCreateOptions,
  StoreEvents,
  StoreJoinOptions,
  StoreLayoutOptions,
  StoreOpenOptions,
} from './store/store';
export { Int32View, BigInt64View } from './store/views';
export type { CellView, WaitResult as StoreWaitResult } from './store/views';
export { Pipeline as StorePipeline } from './store/pipeline';
export {
  OwnerDeadError as StoreOwnerDeadError,
  RejectedError as StoreRejectedError,
  TooManyWaitersError as StoreTooManyWaitersError,
} from './store/errors';
export type { BlockSet, Ownership } from './store/ownership';
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
