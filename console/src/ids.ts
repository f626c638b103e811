/**
 * A version 4 UUID for a clientMutationId. `crypto.randomUUID` exists only in secure contexts,
 * and a county office may serve the console over plain HTTP on its network, so the UUID is
 * built from `getRandomValues`, which exists everywhere.
 */
export function uuid4(): string {
  const b = crypto.getRandomValues(new Uint8Array(16))
  b[6] = (b[6]! & 0x0f) | 0x40
  b[8] = (b[8]! & 0x3f) | 0x80
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** Today in the deployment's zone (China Standard Time), as the API's Date scalar writes it. */
export function todayInChina(now: Date = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(now)
}
