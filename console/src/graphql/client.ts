// One urql client for the console. Every request carries the session's token; a request
// refused as UNAUTHENTICATED sends the user back to the login page.
import { Client, cacheExchange, fetchExchange, mapExchange } from '@urql/core'
import { auth } from '@/auth'
import { pending } from '@/progress'

let onUnauthenticated: () => void = () => {}

export function whenUnauthenticated(handler: () => void): void {
  onUnauthenticated = handler
}

function trackedFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  pending.value += 1
  return fetch(input, init).finally(() => {
    pending.value -= 1
  })
}

export function createClient(): Client {
  return new Client({
    url: '/graphql',
    preferGetMethod: false,
    requestPolicy: 'cache-and-network',
    fetch: trackedFetch,
    fetchOptions: () => {
      const headers: Record<string, string> = { accept: 'application/graphql-response+json, application/json' }
      if (auth.token !== null) headers.authorization = `Bearer ${auth.token}`
      return { headers }
    },
    exchanges: [
      mapExchange({
        onError(error) {
          if (error.graphQLErrors.some((e) => e.extensions.code === 'UNAUTHENTICATED')) onUnauthenticated()
        },
      }),
      cacheExchange,
      fetchExchange,
    ],
  })
}

export const client = createClient()
