// How the queue reads the server's answer to a queued action.
import type { CombinedError } from '@urql/core'
import { formatError, isTransient, readable } from '@/errors'
import type { SendOutcome } from './queue'

/** The server's words for "this exact record is already there": the action did happen. */
const ALREADY_RECORDED = /already recorded/i

export function outcomeOf(error: CombinedError | undefined, hasData: boolean): SendOutcome {
  if (error === undefined) return hasData ? { kind: 'sent' } : { kind: 'transient', message: '服务器没有返回结果' }
  const first = error.graphQLErrors[0]
  if (first?.extensions.code === 'CONFLICT' && ALREADY_RECORDED.test(first.message)) return { kind: 'sent' }
  const problem = readable(error)
  // An expired token is no fault of the record: it waits until someone signs in again.
  if (isTransient(problem) || problem.code === 'UNAUTHENTICATED') return { kind: 'transient', message: formatError(problem) }
  return { kind: 'rejected', message: formatError(problem) }
}
