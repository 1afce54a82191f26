import { describe, expect, it } from 'vitest'
import en from '../src/locales/en'
import zh from '../src/locales/zh-CN'
import { initialLocale } from '../src/locale'

const pages = import.meta.glob<{ default: Record<'zh-CN' | 'en', object> }>('../src/pages/*/messages.ts', { eager: true })

function keys(o: object, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) =>
    typeof v === 'object' && v !== null ? keys(v, `${prefix}${k}.`) : [`${prefix}${k}`],
  )
}

describe('console messages', () => {
  it('say the same things in both languages, the shell and every page', () => {
    expect(keys(en).sort()).toEqual(keys(zh).sort())
    expect(Object.keys(pages).length).toBeGreaterThanOrEqual(2)
    for (const [file, mod] of Object.entries(pages)) {
      expect(keys(mod.default.en).sort(), file).toEqual(keys(mod.default['zh-CN']).sort())
      expect(keys(mod.default.en).some((k) => k.startsWith('menu.')), `${file} names its menu entry`).toBe(true)
    }
  })

  it('start in Chinese unless the person chose or the browser prefers otherwise', () => {
    expect(initialLocale(null, undefined)).toBe('zh-CN')
    expect(initialLocale(null, ['en-GB', 'zh-CN'])).toBe('en')
    expect(initialLocale('zh-CN', ['en-US'])).toBe('zh-CN')
    expect(initialLocale('fr', ['zh-TW'])).toBe('zh-CN')
  })
})
