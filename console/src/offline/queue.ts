// The offline queue: visits and contacts recorded in the village without a connection (or whose
// send failed on the network) wait on the device, in IndexedDB, each with the clientMutationId
// it was given when it was recorded, and are sent in the order they were recorded. Because the
// server keeps idempotency keys, a send that reached the server but whose answer was lost is
// simply answered with the first result when replayed: it never writes twice.
//
// Only these two kinds are ever queued: they are facts observed on a date (the date is fixed in
// the input when recorded, never "today" at send time). Other mutations need the server's answer
// before anyone relies on them, and fail visibly instead.
import { createStore, del, entries, set, type UseStore } from 'idb-keyval'

export type QueuedKind = 'recordVisit' | 'recordContact'

export interface QueuedAction {
  /** The clientMutationId: generated once when the action was recorded, sent with every try. */
  id: string
  kind: QueuedKind
  /** The mutation's input, `clientMutationId` and `on` included. */
  input: Record<string, unknown>
  /** Who recorded it (token subject): only they may send it, since the visitor is the caller. */
  sub: string
  /** For the queue page: whom it is about and what it says. */
  childId: string
  childName: string
  summary: string
  createdAt: string
  /** Milliseconds since the epoch at creation; orders the queue. */
  seq: number
  status: 'pending' | 'failed'
  attempts: number
  lastError: string | null
  /** Not before this time (ms since epoch) is it tried again. */
  nextAttemptAt: number
}

/** What a send came back with. */
export type SendOutcome =
  | { kind: 'sent' }
  /** Try again later: no network, the server or its database down, rate limited. */
  | { kind: 'transient'; message: string }
  /** The server refused the action itself (bad input, forbidden): a person must look at it. */
  | { kind: 'rejected'; message: string }

export type Sender = (action: QueuedAction) => Promise<SendOutcome>

const BASE_DELAY_MS = 2_000
const MAX_DELAY_MS = 5 * 60_000

export function backoff(attempts: number): number {
  return Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.max(0, attempts - 1))
}

export interface FlushReport {
  sent: number
  rejected: number
  /** The first transient failure stops the flush so that the order is kept. */
  stoppedBy: string | null
}

export interface FlushOptions {
  now?: () => number
  /** Try now whatever the backoff says: the connection just came back, or a person asked. */
  ignoreBackoff?: boolean
}

export class OfflineQueue {
  private readonly store: UseStore
  private flushing: Promise<FlushReport> | null = null
  private readonly listeners = new Set<(items: QueuedAction[]) => void>()

  constructor(store?: UseStore) {
    this.store = store ?? createStore('shouhu-offline', 'actions')
  }

  subscribe(listener: (items: QueuedAction[]) => void): () => void {
    this.listeners.add(listener)
    void this.list().then(listener)
    return () => this.listeners.delete(listener)
  }

  private async changed(): Promise<void> {
    const items = await this.list()
    for (const listener of this.listeners) listener(items)
  }

  async list(): Promise<QueuedAction[]> {
    const all = await entries<string, QueuedAction>(this.store)
    return all.map(([, value]) => value).sort((a, b) => a.seq - b.seq || a.id.localeCompare(b.id))
  }

  async add(
    action: Omit<QueuedAction, 'status' | 'attempts' | 'lastError' | 'nextAttemptAt' | 'createdAt' | 'seq'>,
    now: number = Date.now(),
  ): Promise<QueuedAction> {
    if (action.input.clientMutationId !== action.id) {
      throw new Error('a queued action is keyed by its own clientMutationId')
    }
    const existing = (await this.list()).find((item) => item.id === action.id)
    if (existing !== undefined) return existing
    const item: QueuedAction = {
      ...action,
      createdAt: new Date(now).toISOString(),
      seq: now,
      status: 'pending',
      attempts: 0,
      lastError: null,
      nextAttemptAt: 0,
    }
    await set(item.id, item, this.store)
    await this.changed()
    return item
  }

  async remove(id: string): Promise<void> {
    await del(id, this.store)
    await this.changed()
  }

  /** A failed action made pending again, for a person who fixed what was wrong (or wants a retry). */
  async retry(id: string): Promise<void> {
    const item = (await this.list()).find((entry) => entry.id === id)
    if (item === undefined) return
    await set(id, { ...item, status: 'pending', nextAttemptAt: 0, lastError: null }, this.store)
    await this.changed()
  }

  /**
   * Sends the caller's pending actions in order. One flush at a time per queue, so a reload's
   * flush and an `online` event's flush never send one action twice from the same tab.
   */
  flush(sub: string, send: Sender, options: FlushOptions = {}): Promise<FlushReport> {
    const now = options.now ?? Date.now
    this.flushing ??= this.run(sub, send, now, options.ignoreBackoff ?? false).finally(() => {
      this.flushing = null
    })
    return this.flushing
  }

  private async run(sub: string, send: Sender, now: () => number, ignoreBackoff: boolean): Promise<FlushReport> {
    const report: FlushReport = { sent: 0, rejected: 0, stoppedBy: null }
    for (const item of await this.list()) {
      if (item.sub !== sub || item.status !== 'pending') continue
      if (!ignoreBackoff && item.nextAttemptAt > now()) {
        report.stoppedBy = item.lastError ?? 'waiting to retry'
        break
      }
      let outcome: SendOutcome
      try {
        outcome = await send(item)
      } catch (error) {
        outcome = { kind: 'transient', message: error instanceof Error ? error.message : String(error) }
      }
      if (outcome.kind === 'sent') {
        await del(item.id, this.store)
        report.sent += 1
      } else if (outcome.kind === 'rejected') {
        await set(item.id, { ...item, status: 'failed', attempts: item.attempts + 1, lastError: outcome.message }, this.store)
        report.rejected += 1
      } else {
        const attempts = item.attempts + 1
        await set(
          item.id,
          { ...item, attempts, lastError: outcome.message, nextAttemptAt: now() + backoff(attempts) },
          this.store,
        )
        report.stoppedBy = outcome.message
        await this.changed()
        break
      }
      await this.changed()
    }
    return report
  }

  /** When the next try of the caller's first waiting action is due (ms since epoch), if any. */
  async nextAttempt(sub: string): Promise<number | null> {
    const first = (await this.list()).find((item) => item.sub === sub && item.status === 'pending')
    return first === undefined ? null : first.nextAttemptAt
  }
}
