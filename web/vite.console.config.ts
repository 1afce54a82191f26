/**
 * The manager console (web/console), a second Vite build beside the field app: served by
 * `fieldpunch serve` at /console/ from src/fieldpunch/web/console/dist (docs/console.md).
 * It imports the field app's generated API client (web/src/api) rather than a copy.
 */
import { fileURLToPath } from 'node:url'
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vite'
import { precompress } from './vite.config'

export default defineConfig({
  root: fileURLToPath(new URL('./console', import.meta.url)),
  base: '/console/',
  publicDir: false,
  plugins: [vue(), precompress()],
  build: {
    outDir: fileURLToPath(new URL('../src/fieldpunch/web/console/dist', import.meta.url)),
    emptyOutDir: true,
    target: 'es2020',
    sourcemap: false,
    chunkSizeWarningLimit: 1200,
    rollupOptions: {
      output: {
        // Libraries change less often than pages: their own long-cached chunks.
        manualChunks: {
          'element-plus': ['element-plus'],
          leaflet: ['leaflet', 'leaflet.markercluster'],
        },
      },
    },
  },
  server: {
    proxy: {
      '/api': { target: 'http://127.0.0.1:8000', ws: true },
      '/console/settings.json': 'http://127.0.0.1:8000',
      '/app': 'http://127.0.0.1:8000',
    },
  },
})
