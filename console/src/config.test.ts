import { describe, expect, it } from 'vitest'
import { parseConfig } from './config'

describe('deployment configuration', () => {
  it('offers the development login only when no identity provider is configured', () => {
    expect(parseConfig(null, {})).toEqual({ identityProvider: null, devLogin: true })
    const withIdp = parseConfig({ identityProvider: { authorizeUrl: 'https://idp/authorize', clientId: 'shouhu' } }, {})
    expect(withIdp.devLogin).toBe(false)
    expect(withIdp.identityProvider).toEqual({
      authorizeUrl: 'https://idp/authorize',
      clientId: 'shouhu',
      scope: 'openid',
      responseType: 'token',
      logoutUrl: null,
    })
  })

  it('takes the file over the build-time variables, and needs both the URL and the client id', () => {
    const env = { VITE_OIDC_AUTHORIZE_URL: 'https://built/authorize', VITE_OIDC_CLIENT_ID: 'built', VITE_OIDC_RESPONSE_TYPE: 'id_token' }
    expect(parseConfig({}, env).identityProvider?.authorizeUrl).toBe('https://built/authorize')
    expect(parseConfig({}, env).identityProvider?.responseType).toBe('id_token')
    expect(parseConfig({ identityProvider: { authorizeUrl: 'https://file/a', clientId: 'file' } }, env).identityProvider?.clientId).toBe('file')
    expect(parseConfig({ identityProvider: { authorizeUrl: 'https://file/a' } }, {}).identityProvider).toBeNull()
    expect(parseConfig({ devLogin: true, identityProvider: { authorizeUrl: 'https://a', clientId: 'c' } }, {}).devLogin).toBe(true)
  })
})
