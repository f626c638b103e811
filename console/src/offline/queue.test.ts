import 'fake-indexeddb/auto'
import { beforeEach, describe, expect, it } from 'vitest'
import { CombinedError } from '@urql/core'
import { createStore } from 'idb-keyval'
import { backoff, OfflineQueue, type QueuedAction, type SendOutcome } from './queue'
import { outcomeOf } from './outcome'

let n = 0
function freshQueue(): OfflineQueue {
  n += 1
  return new OfflineQueue(createStore(`test-${n}`, 'actions'))
}

function visit(id: string, sub = 'D1') {
  return {
    id,
    kind: 'recordVisit' as const,
    input: { childId: 'C1', type: 'home_visit', on: '2026-12-01', clientMutationId: id },
    sub,
    childId: 'C1',
    childName: '袁琳',
    summary: '入户走访 2026年12月1日',
  }
}

/** A fake server: remembers idempotency keys as the real one does, and can be taken offline. */
class FakeServer {
  online = true
  written: string[] = []
  seen = new Set<string>()
  refuse = new Set<string>()
  send = async (action: QueuedAction): Promise<SendOutcome> => {
    if (!this.online) return { kind: 'transient', message: '无法连接服务器' }
    if (this.refuse.has(action.id)) return { kind: 'rejected', message: '“日期”填写有误' }
    const key = String(action.input.clientMutationId)
    if (!this.seen.has(key)) {
      this.seen.add(key)
      this.written.push(action.id)
    }
    return { kind: 'sent' }
  }
}

describe('the offline queue', () => {
  let queue: OfflineQueue
  let server: FakeServer
  beforeEach(() => {
    queue = freshQueue()
    server = new FakeServer()
  })

  it('keeps actions in the order recorded and sends them once when the connection returns', async () => {
    server.online = false
    await queue.add(visit('a'), 1000)
    await queue.add(visit('b'), 2000)
    await queue.add(visit('c'), 3000)
    const first = await queue.flush('D1', server.send, { now: () => 5000 })
    expect(first).toEqual({ sent: 0, rejected: 0, stoppedBy: '无法连接服务器' })
    // The first failure stops the flush so that b never overtakes a.
    const items = await queue.list()
    expect(items.map((i) => [i.id, i.attempts])).toEqual([['a', 1], ['b', 0], ['c', 0]])
    expect(items[0]!.nextAttemptAt).toBe(5000 + backoff(1))

    server.online = true
    // Before the backoff is up nothing is tried; after it, all go, in order.
    expect((await queue.flush('D1', server.send, { now: () => 5001 })).sent).toBe(0)
    const second = await queue.flush('D1', server.send, { now: () => 5000 + backoff(1) })
    expect(second.sent).toBe(3)
    expect(server.written).toEqual(['a', 'b', 'c'])
    expect(await queue.list()).toEqual([])
  })

  it('sends at once when the connection returns, whatever the backoff had planned', async () => {
    server.online = false
    await queue.add(visit('a'), 1)
    for (let i = 0; i < 9; i += 1) await queue.flush('D1', server.send, { ignoreBackoff: true, now: () => 10 })
    expect((await queue.list())[0]!.nextAttemptAt).toBe(10 + backoff(9))
    expect(backoff(9)).toBe(5 * 60_000)
    server.online = true
    expect((await queue.flush('D1', server.send, { now: () => 11 })).sent).toBe(0)
    expect((await queue.flush('D1', server.send, { now: () => 11, ignoreBackoff: true })).sent).toBe(1)
  })

  it('survives a reload: a new queue over the same database sees the same actions', async () => {
    const store = createStore('reload-test', 'actions')
    await new OfflineQueue(store).add(visit('x'), 1)
    const reloaded = new OfflineQueue(store)
    expect((await reloaded.list()).map((i) => i.id)).toEqual(['x'])
  })

  it('a replay of an action the server already applied counts as sent and writes nothing again', async () => {
    await queue.add(visit('a'), 1)
    server.seen.add('a') // the first send reached the server, its answer was lost
    expect((await queue.flush('D1', server.send)).sent).toBe(1)
    expect(server.written).toEqual([])
    // The server's "already recorded" conflict is read the same way.
    const conflict = new CombinedError({
      graphQLErrors: [{ message: 'this visit, with these notes, is already recorded', extensions: { code: 'CONFLICT' } }],
    })
    expect(outcomeOf(conflict, false)).toEqual({ kind: 'sent' })
  })

  it('keeps a refused action as failed with its message, and goes on with the next', async () => {
    await queue.add(visit('bad'), 1)
    await queue.add(visit('good'), 2)
    server.refuse.add('bad')
    const report = await queue.flush('D1', server.send)
    expect(report).toEqual({ sent: 1, rejected: 1, stoppedBy: null })
    const [left] = await queue.list()
    expect(left).toMatchObject({ id: 'bad', status: 'failed', lastError: '“日期”填写有误' })
    // Failed ones are not retried by themselves; a person asks for it.
    expect((await queue.flush('D1', server.send)).rejected).toBe(0)
    server.refuse.clear()
    await queue.retry('bad')
    expect((await queue.flush('D1', server.send)).sent).toBe(1)
  })

  it('sends only the actions of the person signed in: the visitor is the caller', async () => {
    await queue.add(visit('mine', 'D1'), 1)
    await queue.add(visit('theirs', 'D2'), 2)
    await queue.flush('D1', server.send)
    expect(server.written).toEqual(['mine'])
    expect((await queue.list()).map((i) => i.id)).toEqual(['theirs'])
  })

  it('never sends one action twice when two flushes start together', async () => {
    await queue.add(visit('a'), 1)
    let calls = 0
    const slow = async (action: QueuedAction): Promise<SendOutcome> => {
      calls += 1
      await new Promise((resolve) => setTimeout(resolve, 10))
      return server.send(action)
    }
    await Promise.all([queue.flush('D1', slow), queue.flush('D1', slow)])
    expect(calls).toBe(1)
  })

  it('refuses an action whose key is not its clientMutationId, and adds one id only once', async () => {
    await expect(queue.add({ ...visit('a'), input: { clientMutationId: 'other' } })).rejects.toThrow()
    await queue.add(visit('a'), 1)
    await queue.add(visit('a'), 2)
    expect((await queue.list()).length).toBe(1)
  })

  it('reads the server: network and database failures wait, input errors fail, expiry waits', () => {
    expect(outcomeOf(new CombinedError({ networkError: new TypeError('Failed to fetch') }), false).kind).toBe('transient')
    const code = (c: string) => new CombinedError({ graphQLErrors: [{ message: c, extensions: { code: c, field: 'on' } }] })
    expect(outcomeOf(code('DATABASE_UNAVAILABLE'), false).kind).toBe('transient')
    expect(outcomeOf(code('UNAUTHENTICATED'), false).kind).toBe('transient')
    expect(outcomeOf(code('BAD_USER_INPUT'), false)).toEqual({ kind: 'rejected', message: '“日期”填写有误。请按提示修改后重新提交。' })
    expect(outcomeOf(code('FORBIDDEN'), false).kind).toBe('rejected')
    expect(outcomeOf(undefined, true)).toEqual({ kind: 'sent' })
  })
})
