import { fileURLToPath, URL } from 'node:url'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'
import { VitePWA } from 'vite-plugin-pwa'

// `npm run dev` proxies the API so the console and the API share one origin, as in production
// where the API serves the built console at `/`.
const api = process.env.SHOUHU_CONSOLE_API ?? 'http://127.0.0.1:8001'

// Paths the API answers itself: the service worker must never answer them from the app shell.
const apiPaths = [/^\/graphql/, /^\/health/, /^\/metrics/, /^\/graphiql/, /^\/reports\//, /^\/api\//]

export default defineConfig({
  plugins: [
    vue(),
    // Element Plus components and their styles are imported per use, so the precached shell
    // stays small for tablets on a weak signal.
    Components({
      resolvers: [ElementPlusResolver({ importStyle: 'css' })],
      dts: 'src/components.d.ts',
    }),
    VitePWA({
      registerType: 'autoUpdate',
      injectRegister: false,
      manifest: {
        name: '守护 · 农村留守儿童关爱保护',
        short_name: '守护',
        description: '儿童主任、个案工作者、协调员与机构的工作台，离线可用',
        lang: 'zh-CN',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        background_color: '#ffffff',
        theme_color: '#1d4f91',
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: '/icons/icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' },
        ],
      },
      workbox: {
        // The page that installed the worker is controlled at once, not from the next visit on:
        // a director who opens the console once and walks out of the signal still gets the pages
        // (chunks loaded on first use) from the cache.
        clientsClaim: true,
        globPatterns: ['**/*.{js,css,html,svg,png,json,woff2}'],
        navigateFallback: '/index.html',
        navigateFallbackDenylist: apiPaths,
        // The deployment's identity-provider settings must be read fresh when online.
        runtimeCaching: [
          {
            urlPattern: ({ url }) => url.pathname === '/console-config.json',
            handler: 'NetworkFirst',
            options: { cacheName: 'console-config', networkTimeoutSeconds: 3 },
          },
        ],
        globIgnores: ['console-config.json'],
        cleanupOutdatedCaches: true,
      },
    }),
  ],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  server: {
    host: '127.0.0.1',
    proxy: {
      '/graphql': { target: api, changeOrigin: false, ws: true },
      '/health': { target: api },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1200,
  },
})
