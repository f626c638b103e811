import { auth, setCaller } from './auth'
import { client } from './graphql/client'
import { ME } from './graphql/queries'
import type { MeResult } from './graphql/types'
import { readable, type ReadableError } from './errors'
import { flushNow } from './offline/runner'

/** Loads `me` once per token; offline, the caller kept for this tab is used. */
export async function loadCaller(force = false): Promise<ReadableError | null> {
  if (auth.caller !== null && !force) return null
  const result = await client.query<MeResult>(ME, {}, { requestPolicy: 'network-only' }).toPromise()
  if (result.error !== undefined) return readable(result.error)
  const me = result.data?.me
  if (me === undefined) return null
  setCaller(me)
  // Whatever this person recorded offline in an earlier session can go now.
  void flushNow()
  return null
}
