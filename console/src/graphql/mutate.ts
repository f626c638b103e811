import { client } from './client'
import { readable, type ReadableError } from '@/errors'

/**
 * Sends a mutation that must reach the server now (never queued): its readable error, or null
 * when it was applied. Offline, it fails visibly, and the form keeps its clientMutationId so a
 * retry cannot write twice.
 */
export async function mutate(document: string, variables: Record<string, unknown>): Promise<ReadableError | null> {
  const result = await client.mutation(document, variables, { requestPolicy: 'network-only' }).toPromise()
  return result.error === undefined ? null : readable(result.error)
}
