/// <reference types="vitest/config" />
import { createHash } from 'node:crypto'
import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative, resolve } from 'node:path'
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

/**
 * Swagger UI for the server's `/docs`, from swagger-ui-dist: served by fieldpunch itself, so the
 * API docs work offline and where CDNs are blocked. Copied after the bundle is written, so the
 * service worker never precaches it (it is not part of the field app).
 */
function swaggerUi(): Plugin {
  let outDir = ''
  return {
    name: 'fieldpunch-swagger-ui',
    apply: 'build',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir)
    },
    closeBundle() {
      const from = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'))
      mkdirSync(join(outDir, 'docs'), { recursive: true })
      for (const name of ['swagger-ui-bundle.js', 'swagger-ui.css', 'LICENSE']) {
        copyFileSync(join(from, name), join(outDir, 'docs', name))
      }
    },
  }
}

export default defineConfig({
  base: '/app/',
  plugins: [vue(), noExternalFonts(), serviceWorker(), swaggerUi()],
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
