/** Where queries keep their last answer for offline use (src/graphql/cached.ts). */
export const CACHE_PREFIX = 'shouhu.cache.'

export function forgetCachedQueries(): void {
  for (let i = sessionStorage.length - 1; i >= 0; i -= 1) {
    const key = sessionStorage.key(i)
    if (key?.startsWith(CACHE_PREFIX)) sessionStorage.removeItem(key)
  }
}
