// Queries the village needs without a signal (the worklist, a child's file) keep their last
// answer in sessionStorage: it lives only as long as the tab of the person signed in, and
// logging out forgets it, so a shared tablet keeps no child's data once its user has gone.
import { client } from './client'
import { readable, type ReadableError } from '@/errors'
import { auth } from '@/auth'
import { CACHE_PREFIX } from '@/sessionCache'


export interface CachedResult<T> {
  data: T | null
  error: ReadableError | null
  /** When `data` came from the cache because the network failed: when it was fetched. */
  staleSince: string | null
}

export async function cachedQuery<T>(
  name: string,
  document: string,
  variables: Record<string, unknown>,
): Promise<CachedResult<T>> {
  const key = `${CACHE_PREFIX}${auth.caller?.sub ?? ''}.${name}.${JSON.stringify(variables)}`
  const result = await client.query<T>(document, variables, { requestPolicy: 'network-only' }).toPromise()
  if (result.error === undefined && result.data !== undefined) {
    try {
      sessionStorage.setItem(key, JSON.stringify({ at: new Date().toISOString(), data: result.data }))
    } catch {
      // A full sessionStorage only costs the offline copy.
    }
    return { data: result.data, error: null, staleSince: null }
  }
  const error = result.error !== undefined ? readable(result.error) : null
  if (error?.network === true) {
    const stored = sessionStorage.getItem(key)
    if (stored !== null) {
      const { at, data } = JSON.parse(stored) as { at: string; data: T }
      return { data, error, staleSince: at }
    }
  }
  return { data: result.data ?? null, error, staleSince: null }
}
