import { registerSW } from 'virtual:pwa-register'

/** The service worker precaches the app shell so the console opens in the village offline. */
export function registerServiceWorker(): void {
  if (!('serviceWorker' in navigator)) return
  registerSW({ immediate: true })
}
