// The caller's token lives in sessionStorage, never localStorage: village tablets are shared,
// and a token must not outlive the browser tab of the person who signed in.
import { computed, reactive } from 'vue'
import type { IdentityProvider } from './config'
import type { MeResult } from './graphql/types'
import { forgetCachedQueries } from './sessionCache'

const TOKEN_KEY = 'shouhu.token'
const STATE_KEY = 'shouhu.oidc.state'

/** The caller as `me` answers; `operations` are the access table's rows the role may use. */
export type Caller = MeResult['me']

const CALLER_KEY = 'shouhu.caller'

interface AuthState {
  token: string | null
  caller: Caller | null
}

function storedCaller(): Caller | null {
  try {
    const raw = sessionStorage.getItem(CALLER_KEY)
    return raw === null ? null : (JSON.parse(raw) as Caller)
  } catch {
    return null
  }
}

export const auth = reactive<AuthState>({
  token: sessionStorage.getItem(TOKEN_KEY),
  // Kept for this tab so the console opens offline (in the village) with the same navigation.
  caller: storedCaller(),
})

export function setCaller(caller: Caller): void {
  auth.caller = caller
  sessionStorage.setItem(CALLER_KEY, JSON.stringify(caller))
}

/** Whether the caller's role may use an API operation (a row of the access table). */
export function may(operation: string): boolean {
  return auth.caller?.operations.includes(operation) ?? false
}

export const isSignedIn = computed(() => auth.token !== null)

export function setToken(token: string): void {
  auth.token = token.trim()
  auth.caller = null
  sessionStorage.setItem(TOKEN_KEY, auth.token)
  sessionStorage.removeItem(CALLER_KEY)
}

export function clearToken(): void {
  forgetCachedQueries()
  auth.token = null
  auth.caller = null
  sessionStorage.removeItem(TOKEN_KEY)
  sessionStorage.removeItem(CALLER_KEY)
}

/** The claims of a JWT, unverified: only to warn early about an expired or garbled paste. */
export function peekClaims(token: string): Record<string, unknown> | null {
  const part = token.trim().split('.')[1]
  if (part === undefined) return null
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='))
    const claims: unknown = JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0))))
    return claims !== null && typeof claims === 'object' ? (claims as Record<string, unknown>) : null
  } catch {
    return null
  }
}

export function isExpired(token: string, nowSeconds: number = Date.now() / 1000): boolean {
  const exp = peekClaims(token)?.exp
  return typeof exp === 'number' && exp <= nowSeconds
}

function randomState(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}

export function loginRedirectUri(): string {
  return `${window.location.origin}/login`
}

/** Sends the browser to the deployment's identity provider. */
export function redirectToProvider(idp: IdentityProvider): void {
  const state = randomState()
  sessionStorage.setItem(STATE_KEY, state)
  const url = new URL(idp.authorizeUrl)
  url.searchParams.set('client_id', idp.clientId)
  url.searchParams.set('redirect_uri', loginRedirectUri())
  url.searchParams.set('response_type', idp.responseType)
  url.searchParams.set('scope', idp.scope)
  url.searchParams.set('state', state)
  url.searchParams.set('nonce', randomState())
  window.location.assign(url.toString())
}

/**
 * Reads the token the identity provider returned in the URL fragment; true when one was taken.
 * The state must match the one this tab sent, so a link crafted elsewhere cannot sign us in.
 */
export function takeProviderResponse(hash: string, idp: IdentityProvider): boolean | string {
  if (hash.length < 2) return false
  const params = new URLSearchParams(hash.slice(1))
  const error = params.get('error')
  if (error !== null) return params.get('error_description') ?? error
  const token = params.get(idp.responseType === 'id_token' ? 'id_token' : 'access_token')
  if (token === null) return false
  const expected = sessionStorage.getItem(STATE_KEY)
  sessionStorage.removeItem(STATE_KEY)
  if (expected === null || params.get('state') !== expected) return '登录回调的 state 不匹配，请重新登录。'
  setToken(token)
  return true
}
