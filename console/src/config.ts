// Deployment configuration. A deployment replaces `/console-config.json` (served next to the
// console) to send users to its identity provider instead of the development token login; the
// build-time VITE_OIDC_* variables are the fallback when the file says nothing.

export interface IdentityProvider {
  /** The provider's authorization endpoint; the console redirects there to sign in. */
  authorizeUrl: string
  clientId: string
  /** Space-separated scopes; default "openid". */
  scope: string
  /** "token" or "id_token": which fragment parameter carries the JWT the API verifies. */
  responseType: 'token' | 'id_token'
  /** Optional: where the provider ends the session on logout. */
  logoutUrl: string | null
}

export interface ConsoleConfig {
  identityProvider: IdentityProvider | null
  /** Whether the paste-a-token login is offered (default: only when no identity provider). */
  devLogin: boolean
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null
}

/** The build-time settings `parseConfig` reads (a subset of `import.meta.env`). */
export type BuildEnv = Partial<
  Pick<ImportMetaEnv, 'VITE_OIDC_AUTHORIZE_URL' | 'VITE_OIDC_CLIENT_ID' | 'VITE_OIDC_SCOPE' | 'VITE_OIDC_RESPONSE_TYPE' | 'VITE_DEV_LOGIN'>
>

export function parseConfig(raw: unknown, env: BuildEnv): ConsoleConfig {
  const obj = (raw !== null && typeof raw === 'object' ? raw : {}) as Record<string, unknown>
  const idp = (obj.identityProvider ?? null) as Record<string, unknown> | null
  const authorizeUrl = text(idp?.authorizeUrl) ?? text(env.VITE_OIDC_AUTHORIZE_URL)
  const clientId = text(idp?.clientId) ?? text(env.VITE_OIDC_CLIENT_ID)
  let identityProvider: IdentityProvider | null = null
  if (authorizeUrl !== null && clientId !== null) {
    const responseType = text(idp?.responseType) ?? text(env.VITE_OIDC_RESPONSE_TYPE)
    identityProvider = {
      authorizeUrl,
      clientId,
      scope: text(idp?.scope) ?? text(env.VITE_OIDC_SCOPE) ?? 'openid',
      responseType: responseType === 'id_token' ? 'id_token' : 'token',
      logoutUrl: text(idp?.logoutUrl),
    }
  }
  const devLogin =
    typeof obj.devLogin === 'boolean'
      ? obj.devLogin
      : env.VITE_DEV_LOGIN !== undefined
        ? env.VITE_DEV_LOGIN !== 'false'
        : identityProvider === null
  return { identityProvider, devLogin }
}

let loaded: Promise<ConsoleConfig> | null = null

export function loadConfig(): Promise<ConsoleConfig> {
  loaded ??= fetch('/console-config.json', { cache: 'no-store' })
    .then((r) => (r.ok ? (r.json() as Promise<unknown>) : null))
    .catch(() => null)
    .then((raw) => parseConfig(raw, import.meta.env))
  return loaded
}
