/// <reference types="vitest/config" />
import { createHash } from 'node:crypto'
import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib'
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

/**
 * Precompress the built text files (`x.js.br`, `x.js.gz` beside `x.js`) for the server to send
 * by `Accept-Encoding`: brotli at its best level costs seconds once here, never per request.
 * Node's own zlib does both, so no plugin dependency. Runs last (after sw.js and the API docs).
 */
export function precompress(): Plugin {
  const text = /\.(?:js|css|html|json|svg|webmanifest|txt|map)$/
  const MIN_BYTES = 1024 // below this the encoded answer is hardly smaller than its headers
  let outDir = ''
  return {
    name: 'fieldpunch-precompress',
    apply: 'build',
    enforce: 'post',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir)
    },
    closeBundle: {
      order: 'post',
      handler() {
        const walk = (dir: string): string[] =>
          readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]))
        for (const file of walk(outDir)) {
          if (!text.test(file)) continue
          const raw = readFileSync(file)
          if (raw.length < MIN_BYTES) continue
          const br = brotliCompressSync(raw, {
            params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: raw.length },
          })
          const gz = gzipSync(raw, { level: 9 })
          // Only what pays: an encoding no smaller than the file is left out.
          if (br.length < raw.length) writeFileSync(`${file}.br`, br)
          if (gz.length < raw.length) writeFileSync(`${file}.gz`, gz)
        }
      },
    },
  }
}

export default defineConfig({
  base: '/app/',
  plugins: [vue(), noExternalFonts(), serviceWorker(), swaggerUi(), precompress()],
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
    include: ['tests/**/*.test.ts', 'console/tests/**/*.test.ts'],
  },
})
