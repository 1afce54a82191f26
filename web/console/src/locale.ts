/** Which language to start in: the person's saved choice, else the browser's first language. */
export type AppLocale = 'zh-CN' | 'en'

export function initialLocale(saved: string | null, languages: readonly string[] | undefined): AppLocale {
  if (saved === 'en' || saved === 'zh-CN') return saved
  const first = languages?.find((l) => !!l)
  return !first || first.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en'
}
