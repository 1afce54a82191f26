/**
 * The console's languages: zh-CN by default, English. The shell's words are in locales/; each
 * page keeps its own in `pages/<page>/messages.ts` (`{ 'zh-CN': {...}, en: {...} }`), merged here,
 * so adding a page touches no shared message file. The choice is shared with the field app.
 */
import { createI18n } from 'vue-i18n'
import { initialLocale, type AppLocale } from './locale'
import en from './locales/en'
import zh from './locales/zh-CN'

type Messages = Record<string, unknown>
const pageMessages = import.meta.glob<{ default: Record<AppLocale, Messages> }>('./pages/*/messages.ts', {
  eager: true,
})

/** The shell's messages with every page's: sections two pages share (`menu`) are merged. */
function merged(locale: AppLocale, base: Messages): Messages {
  const out: Messages = { ...base }
  for (const mod of Object.values(pageMessages)) {
    for (const [key, value] of Object.entries(mod.default[locale])) {
      const had = out[key]
      const both = typeof had === 'object' && had !== null && typeof value === 'object' && value !== null
      out[key] = both ? { ...(had as Messages), ...(value as Messages) } : value
    }
  }
  return out
}

const KEY = 'fieldpunch.locale'

function saved(): string | null {
  try {
    return localStorage.getItem(KEY)
  } catch {
    return null
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const messages: { 'zh-CN': any; en: any } = { 'zh-CN': merged('zh-CN', zh), en: merged('en', en) }

export const i18n = createI18n({
  legacy: false,
  locale: initialLocale(saved(), typeof navigator === 'undefined' ? undefined : navigator.languages),
  fallbackLocale: 'zh-CN',
  messages,
})

export function currentLocale(): AppLocale {
  return i18n.global.locale.value as AppLocale
}

export function setLocale(locale: AppLocale, remember = true): void {
  i18n.global.locale.value = locale
  document.documentElement.lang = locale
  if (remember) localStorage.setItem(KEY, locale)
}
