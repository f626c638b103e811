// The console's one offline queue: its items as reactive state (the badge, the queue page),
// and the loop that sends them when the connection returns.
import { ref } from 'vue'
import { auth } from '@/auth'
import { client } from '@/graphql/client'
import { RECORD_CONTACT, RECORD_VISIT } from '@/graphql/queries'
import { OfflineQueue, type QueuedAction, type SendOutcome } from './queue'
import { outcomeOf } from './outcome'

export const queue = new OfflineQueue()
export const queued = ref<QueuedAction[]>([])
export const online = ref(typeof navigator === 'undefined' ? true : navigator.onLine)
export const sentCount = ref(0)
export const lastFlush = ref<{ at: string; sent: number; rejected: number; stoppedBy: string | null } | null>(null)

const DOCUMENTS = { recordVisit: RECORD_VISIT, recordContact: RECORD_CONTACT } as const

export async function sendAction(action: QueuedAction): Promise<SendOutcome> {
  const result = await client
    .mutation(DOCUMENTS[action.kind], { input: action.input }, { requestPolicy: 'network-only' })
    .toPromise()
  return outcomeOf(result.error, result.data !== undefined && result.data !== null)
}

let timer: ReturnType<typeof setTimeout> | null = null

/**
 * Sends what the signed-in person queued. `now` (the connection came back, or they asked) tries
 * at once; otherwise the backoff of earlier failures is respected. Nothing is tried while the
 * browser knows it is offline: the `online` event will call again.
 */
export async function flushNow(now = false): Promise<void> {
  const sub = auth.caller?.sub
  if (sub === undefined || auth.token === null || !navigator.onLine) return
  if (timer !== null) {
    clearTimeout(timer)
    timer = null
  }
  const report = await queue.flush(sub, sendAction, { ignoreBackoff: now })
  lastFlush.value = { at: new Date().toISOString(), ...report }
  // Pages showing a child's visits watch this to fetch again once queued records reached the server.
  if (report.sent > 0) sentCount.value += report.sent
  const next = await queue.nextAttempt(sub)
  if (next !== null) timer = setTimeout(() => void flushNow(), Math.max(1_000, next - Date.now()))
}

export function startQueue(): void {
  queue.subscribe((items) => {
    queued.value = items
  })
  window.addEventListener('online', () => {
    online.value = true
    void flushNow(true)
  })
  window.addEventListener('offline', () => {
    online.value = false
  })
  void flushNow()
}
