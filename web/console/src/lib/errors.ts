/** A failed call in words for a toast: offline, refused, missing, else the server's detail. */
import { ApiError, NetworkError } from '../../../src/api/client'

type T = (key: string, values?: Record<string, unknown>) => string

export function errorText(e: unknown, t: T): string {
  if (e instanceof NetworkError) return t('common.offline')
  if (e instanceof ApiError) {
    if (e.status === 403) return t('common.forbidden')
    if (e.status === 404) return t('common.notFound')
    return t('common.error', { detail: e.detail })
  }
  return t('common.error', { detail: e instanceof Error ? e.message : String(e) })
}
