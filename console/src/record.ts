// Sending a visit or a contact: straight to the server when it can be reached, else into the
// offline queue with the same clientMutationId, so whichever copy arrives first is the only one.
import { auth } from './auth'
import { isTransient, readable, readableGraphQLError, type ReadableError } from './errors'
import { client } from './graphql/client'
import { RECORD_CONTACT, RECORD_VISIT } from './graphql/queries'
import { queue, online } from './offline/runner'
import type { QueuedKind } from './offline/queue'

export type RecordResult = { kind: 'sent' } | { kind: 'queued' } | { kind: 'error'; error: ReadableError }

export interface RecordMeta {
  childId: string
  childName: string
  summary: string
}

const DOCUMENTS: Record<QueuedKind, string> = { recordVisit: RECORD_VISIT, recordContact: RECORD_CONTACT }

export async function recordOrQueue(
  kind: QueuedKind,
  input: Record<string, unknown> & { clientMutationId: string; on: string },
  meta: RecordMeta,
): Promise<RecordResult> {
  const sub = auth.caller?.sub
  if (sub === undefined) return { kind: 'error', error: readableGraphQLError({ message: 'not signed in', extensions: { code: 'UNAUTHENTICATED' } }) }
  const enqueue = async (): Promise<RecordResult> => {
    await queue.add({ id: input.clientMutationId, kind, input, sub, ...meta })
    return { kind: 'queued' }
  }
  if (!online.value || !navigator.onLine) return enqueue()
  const result = await client.mutation(DOCUMENTS[kind], { input }, { requestPolicy: 'network-only' }).toPromise()
  if (result.error === undefined) return { kind: 'sent' }
  const error = readable(result.error)
  // The send may have reached the server before the line dropped; the queued copy carries the
  // same key, so its replay is answered with this first result instead of a second record.
  if (isTransient(error) && error.code !== 'LIMIT_EXCEEDED') return enqueue()
  return { kind: 'error', error }
}
