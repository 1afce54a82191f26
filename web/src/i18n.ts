import { createI18n } from 'vue-i18n'
import { Locale } from 'vant'
import vantEn from 'vant/es/locale/lang/en-US'
import vantZh from 'vant/es/locale/lang/zh-CN'
import en from './locales/en'
import zh from './locales/zh-CN'

export type AppLocale = 'zh-CN' | 'en'
const KEY = 'fieldpunch.locale'

function initial(): AppLocale {
  const saved = localStorage.getItem(KEY)
  return saved === 'en' || saved === 'zh-CN' ? saved : 'zh-CN'
}

export const i18n = createI18n({
  legacy: false,
  locale: initial(),
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zh, en },
})

export function setLocale(locale: AppLocale): void {
  i18n.global.locale.value = locale
  localStorage.setItem(KEY, locale)
  document.documentElement.lang = locale
  Locale.use(locale === 'en' ? 'en-US' : 'zh-CN', locale === 'en' ? vantEn : vantZh)
}

export function toggleLocale(): void {
  setLocale(i18n.global.locale.value === 'en' ? 'zh-CN' : 'en')
}

export function applyInitialLocale(): void {
  setLocale(i18n.global.locale.value as AppLocale)
}
