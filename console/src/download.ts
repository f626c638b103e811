// Downloads a report the API writes (`GET /reports/statistics`) with the session's token, and
// saves it under the name the server gives. A refusal comes back in the API's error shape and
// is made readable like any GraphQL error.
import { auth } from './auth'
import { networkError, readableGraphQLError, type ReadableError } from './errors'
import { pending } from './progress'

export interface Downloaded {
  name: string
  bytes: number
}

function fileName(disposition: string | null, fallback: string): string {
  const match = disposition?.match(/filename="([^"]+)"/)
  return match?.[1] ?? fallback
}

export async function download(path: string, fallback: string): Promise<Downloaded | ReadableError> {
  pending.value += 1
  try {
    let response: Response
    try {
      response = await fetch(path, { headers: auth.token !== null ? { authorization: `Bearer ${auth.token}` } : {} })
    } catch (error) {
      return networkError(String(error))
    }
    if (!response.ok) {
      try {
        const body = (await response.json()) as { errors?: { message: string; extensions?: Record<string, unknown> }[] }
        const first = body.errors?.[0]
        if (first !== undefined) return readableGraphQLError(first)
      } catch {
        // not the API's error shape: said as a network failure below
      }
      return networkError(`HTTP ${response.status}`)
    }
    const blob = await response.blob()
    const name = fileName(response.headers.get('content-disposition'), fallback)
    const url = URL.createObjectURL(blob)
    const link = document.createElement('a')
    link.href = url
    link.download = name
    document.body.appendChild(link)
    link.click()
    link.remove()
    // The browser has taken the file once the click has run.
    setTimeout(() => URL.revokeObjectURL(url), 10_000)
    return { name, bytes: blob.size }
  } finally {
    pending.value -= 1
  }
}
