// Public API of interproc.
export { SharedMemory } from './shared-memory';
export type { CreateOptions, OpenOptions, OpenOrCreateOptions } from './shared-memory';
export * as futex from './futex';
export type { WaitResult, FutexArray, WaitAsyncOptions } from './futex';
export { AbortError, InterprocError } from './errors';
export { Mailbox, MailboxGroup } from './mailbox';
export type {
  Doorbell, MailboxGroupCreateOptions, MailboxGroupJoinOptions, MailboxGroupOptions, MemberInfo, MemberState, Message,
  MessageData, MessageView, ReceiveOptions, SendOptions, SyncOptions,
} from './mailbox';
