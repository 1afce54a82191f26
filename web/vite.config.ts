/// <reference types="vitest/config" />
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import vue from '@vitejs/plugin-vue'
import { defineConfig, type Plugin } from 'vite'

const here = fileURLToPath(new URL('.', import.meta.url))
const publicDir = join(here, 'public')

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? listFiles(path) : [relative(publicDir, path)]
  })
}

/** Emit sw.js with the exact list of shell files of this build and a version from their hash. */
function serviceWorker(): Plugin {
  return {
    name: 'fieldpunch-service-worker',
    apply: 'build',
    generateBundle(_options, bundle) {
      const hash = createHash('sha256')
      const built = Object.keys(bundle).filter((f) => !f.endsWith('.map')).sort()
      for (const name of built) {
        const item = bundle[name]
        hash.update(name)
        hash.update(item.type === 'chunk' ? item.code : item.source)
      }
      const statics = listFiles(publicDir).sort()
      for (const name of statics) hash.update(readFileSync(join(publicDir, name)))
      // index.html is emitted by Vite's HTML plugin after this hook runs; it is the shell itself.
      const shell = [...new Set(['index.html', ...built, ...statics])]
      const source = readFileSync(join(here, 'sw.template.js'), 'utf8')
        .replace('__VERSION__', hash.digest('hex').slice(0, 16))
        .replace('__SHELL__', JSON.stringify(shell))
      this.emitFile({ type: 'asset', fileName: 'sw.js', source })
    },
  }
}

/** Vant's icon font has a third-party CDN fallback after its inlined woff2: drop it (offline, CSP). */
function noExternalFonts(): Plugin {
  const external = /,\s*url\((?:https?:)?\/\/[^)]+\)\s*format\("woff"\)/g
  return {
    name: 'fieldpunch-no-external-fonts',
    apply: 'build',
    generateBundle(_options, bundle) {
      for (const item of Object.values(bundle)) {
        if (item.type === 'asset' && item.fileName.endsWith('.css') && typeof item.source === 'string') {
          item.source = item.source.replace(external, '')
        }
      }
    },
  }
}

export default defineConfig({
  base: '/app/',
  plugins: [vue(), noExternalFonts(), serviceWorker()],
  build: {
    outDir: fileURLToPath(new URL('../src/fieldpunch/web/dist', import.meta.url)),
    emptyOutDir: true,
    target: 'es2020',
    chunkSizeWarningLimit: 900,
    sourcemap: false,
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:8000' },
  },
  test: {
    environment: 'node',
    include: ['tests/**/*.test.ts'],
  },
})
