/** A refused request's field errors (problem+json), to show each beside the field it names. */
import { ApiError } from '../../../src/api/client'

/**
 * A refused request's field errors (problem+json `errors`, FastAPI's `detail` list) by path
 * without the leading `body`: `{"max_speed_kmh": "…", "rules.duplicate.severity": "…"}`.
 * A problem with no field path is under `""`.
 */
export function fieldErrors(e: unknown): Record<string, string> {
  if (!(e instanceof ApiError)) return {}
  const body = e.body as { errors?: unknown; detail?: unknown } | null
  const list = Array.isArray(body?.errors) ? body.errors : Array.isArray(body?.detail) ? body.detail : []
  const out: Record<string, string> = {}
  for (const item of list as { loc?: unknown[]; msg?: unknown }[]) {
    const loc = Array.isArray(item.loc) ? item.loc.map(String) : []
    const path = (loc[0] === 'body' ? loc.slice(1) : loc).join('.')
    const msg = typeof item.msg === 'string' ? item.msg : ''
    out[path] = out[path] ? `${out[path]}; ${msg}` : msg
  }
  return out
}

/** The errors at a path or under it (`rules.duplicate` takes `rules.duplicate.severity`). */
export function errorsUnder(errors: Record<string, string>, at: string): string {
  return Object.entries(errors)
    .filter(([path]) => path === at || path.startsWith(`${at}.`))
    .map(([, msg]) => msg)
    .join('; ')
}
