// The two-party case of a mailbox group: a channel between two processes over shared memory, each
// side sending to the other. A thin layer over MailboxGroup with the peer fixed; its receives give
// the Buffers alone (MailboxGroup's DataReceiver), so they cost no more than the group's.
import { codeOf, InterprocError } from '../internal/errors';
import { validateObject, validateOptionNames } from '../internal/validate';
import { kDoorbellMode, type DoorbellMode } from './doorbell';
import {
  MailboxGroup,
  type MailboxGroupCreateOptions,
  type MailboxGroupJoinOptions,
  type ReceiveManyOptions,
  type ReceiveOptions,
  type SendOptions,
  type SyncOptions,
} from './group';
import type { MessageView } from './inbox';
import type { MessageData } from './outbox';
import type { MemberInfo } from './segment';

const NO_OPTIONS: ReceiveManyOptions = Object.freeze({});

/** A two-party channel: a MailboxGroup of two members, each sending to the other. */
export class Mailbox implements Disposable, AsyncIterable<Buffer> {
  readonly #group: MailboxGroup;
  readonly #peer: number;

  private constructor(group: MailboxGroup) {
    this.#group = group;
    this.#peer = 1 - group.id;
  }

  /** Creates the channel's segment (exclusive) and takes side 0. */
  static create(name: string, options: Omit<MailboxGroupCreateOptions, 'members' | 'id'> = NO_OPTIONS): Mailbox {
    validateObject(options, 'options');
    validateOptionNames(options, 'options', ['ringSize', 'mode', 'doorbell', 'spin']);
    return new Mailbox(MailboxGroup.create(name, { ...options, members: 2, id: 0 }));
  }

  /** Opens an existing channel and takes the free side (or `options.id`). */
  static open(name: string, options: MailboxGroupJoinOptions = NO_OPTIONS): Mailbox {
    validateObject(options, 'options');
    const group = MailboxGroup.join(name, options);
    if (group.members !== 2) {
      group.close();
      throw new InterprocError(
        'ERR_MAILBOX_INCOMPATIBLE',
        `'${name}' is a mailbox group of ${group.members} members, not a two-party Mailbox`,
      );
    }
    return new Mailbox(group);
  }

  static unlink(name: string): boolean {
    return MailboxGroup.unlink(name);
  }

  /** @internal The two-member group under a Mailbox (lib/rpc runs its transport over it). */
  static groupOf(mailbox: Mailbox): MailboxGroup {
    return mailbox.#group;
  }

  get id(): number {
    return this.#group.id;
  }
  get closed(): boolean {
    return this.#group.closed;
  }
  get maxMessageSize(): number {
    return this.#group.maxMessageSize;
  }
  /** The other side: its pid and whether it is alive, dead, has left, or never came. */
  get peer(): MemberInfo {
    return this.#group.memberInfo(this.#peer);
  }

  trySend(data: MessageData): boolean {
    return this.#group.trySend(this.#peer, data);
  }
  /** See MailboxGroup#cork. */
  cork(): void {
    this.#group.cork();
  }
  uncork(): void {
    this.#group.uncork();
  }
  send(data: MessageData, options?: SendOptions): Promise<void> {
    return this.#group.send(this.#peer, data, options);
  }
  sendSync(data: MessageData, options?: SyncOptions): void {
    this.#group.sendSync(this.#peer, data, options);
  }
  tryReceive(): Buffer | undefined {
    return this.#group.tryReceive(this.#peer)?.data;
  }
  tryReceiveView(): MessageView | undefined {
    return this.#group.tryReceiveView(this.#peer);
  }
  receive(options: ReceiveOptions = NO_OPTIONS): Promise<Buffer> {
    return this.#group.receiveData(this.#peer, options);
  }
  receiveView(options?: ReceiveOptions): Promise<MessageView> {
    return this.#group.receiveView(this.#peer, options);
  }
  receiveSync(options?: SyncOptions): Buffer {
    return this.#group.receiveSync(this.#peer, options).data;
  }
  /** Every message waiting now, up to `max` (default 1024); [] when none. See MailboxGroup#tryReceiveMany. */
  tryReceiveMany(max?: number): Buffer[] {
    return this.#group.tryReceiveManyData(this.#peer, max);
  }
  /** Like tryReceiveMany, but waits until at least one message is there. */
  receiveMany(options: ReceiveManyOptions = NO_OPTIONS): Promise<Buffer[]> {
    return this.#group.receiveManyData(this.#peer, options);
  }

  /** @internal See kDoorbellMode. */
  get [kDoorbellMode](): DoorbellMode {
    return this.#group[kDoorbellMode];
  }

  /** Messages until the peer leaves (the loop ends) or dies (it throws ERR_MAILBOX_PEER_DEAD), or this side closes. */
  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    while (!this.closed) {
      try {
        yield await this.receive();
      } catch (err) {
        if (this.closed || codeOf(err) === 'ERR_MAILBOX_PEER_CLOSED') return;
        throw err;
      }
    }
  }

  close(): void {
    this.#group.close();
  }
  [Symbol.dispose](): void {
    this.close();
  }
}
