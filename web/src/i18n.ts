import { createI18n } from 'vue-i18n'
import { Locale } from 'vant'
import vantEn from 'vant/es/locale/lang/en-US'
import vantZh from 'vant/es/locale/lang/zh-CN'
import en from './locales/en'
import zh from './locales/zh-CN'

export type AppLocale = 'zh-CN' | 'en'
const KEY = 'fieldpunch.locale'

/** The browser's preference: its first language, zh* → Chinese, anything else → English. */
export function fromBrowser(languages: readonly string[] | undefined): AppLocale {
  const first = languages?.find((l) => !!l)
  if (!first) return 'zh-CN'
  return first.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en'
}

/** The person's explicit choice (kept in localStorage), else the browser's languages. */
export function initialLocale(
  saved: string | null,
  languages: readonly string[] | undefined,
): AppLocale {
  return saved === 'en' || saved === 'zh-CN' ? saved : fromBrowser(languages)
}

function browserLanguages(): readonly string[] | undefined {
  if (typeof navigator === 'undefined') return undefined
  return navigator.languages?.length ? navigator.languages : [navigator.language]
}

function savedLocale(): string | null {
  try {
    return localStorage.getItem(KEY)
  } catch {
    return null
  }
}

export const i18n = createI18n({
  legacy: false,
  locale: initialLocale(savedLocale(), browserLanguages()),
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zh, en },
})

function apply(locale: AppLocale): void {
  i18n.global.locale.value = locale
  document.documentElement.lang = locale
  Locale.use(locale === 'en' ? 'en-US' : 'zh-CN', locale === 'en' ? vantEn : vantZh)
}

/** An explicit choice: applied and remembered (it then wins over the browser's languages). */
export function setLocale(locale: AppLocale): void {
  apply(locale)
  localStorage.setItem(KEY, locale)
}

export function toggleLocale(): void {
  setLocale(i18n.global.locale.value === 'en' ? 'zh-CN' : 'en')
}

/** At start: the remembered choice or the browser's languages, without remembering the latter. */
export function applyInitialLocale(): void {
  apply(i18n.global.locale.value as AppLocale)
}
