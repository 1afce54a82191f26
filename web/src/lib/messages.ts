/**
 * Server words in the person's language. The server writes English details for managers and
 * field paths for developers; the app says the same in plain zh-CN or English:
 *
 * - anomalies and trust findings by their `rule` (and the numbers in their evidence);
 * - HTTP problems by status, and 422 field errors by the last element of their `loc`;
 * - notifications by their `kind`.
 *
 * Every function takes vue-i18n's `t`/`te`, so it works in components and in unit tests alike.
 */
import { ApiError, NetworkError } from '../api/client'
import { formatDistance } from './geo'

/** vue-i18n's `t`: a third argument picks the plural form ("1 Wi-Fi network | {n} Wi-Fi networks"). */
export type T = (key: string, named?: Record<string, unknown>, plural?: number) => string
export type Te = (key: string) => boolean

export interface FindingLike {
  rule: string
  detail: string
  evidence?: Record<string, unknown> | null
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null
}

function round(v: number, digits = 0): string {
  const f = 10 ** digits
  return String(Math.round(v * f) / f)
}

/** "40 秒", "12 分钟", "3.5 小时", "2 天" (or English). */
export function duration(seconds: number, t: T): string {
  const s = Math.abs(seconds)
  if (s < 90) return t('units.seconds', { n: round(s) })
  if (s < 90 * 60) return t('units.minutes', { n: round(s / 60) })
  if (s < 48 * 3600) return t('units.hours', { n: round(s / 3600, 1) })
  const days = round(s / 86400, 1)
  return t('units.days', { n: days }, Number(days))
}

function clock(iso: unknown, locale: string): string | null {
  if (typeof iso !== 'string') return null
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return null
  return d.toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' })
}

/**
 * One plain sentence for a finding: what happened, with its numbers. A rule the app does not
 * know yet keeps the server's detail (better than nothing, and it names the problem).
 */
export function findingText(f: FindingLike, t: T, te: Te, locale = 'zh-CN'): string {
  const e = f.evidence ?? {}
  const key = `findings.${f.rule}`
  switch (f.rule) {
    case 'outside_geofence':
    case 'visit_out_far': {
      const d = num(e.distance_outside_m)
      const tol = num(e.tolerance_m)
      // "距打卡范围 71 米，超出定位误差 3 米": how far, then by how much the accuracy falls short.
      if (d !== null && tol !== null) {
        const over = Math.max(0, d - tol)
        return t(`${key}.measured`, { d: formatDistance(d, locale), over: formatDistance(over, locale) })
      }
      break
    }
    case 'low_accuracy': {
      const acc = num(e.accuracy_m)
      const max = num(e.max_accuracy_m)
      if (acc !== null && max !== null) return t(`${key}.measured`, { acc: round(acc), max: round(max) })
      break
    }
    case 'impossible_speed': {
      const d = num(e.distance_m)
      const s = num(e.seconds)
      const v = num(e.speed_kmh)
      if (d !== null && v === null) return t(`${key}.sameMoment`, { km: round(d / 1000, 1) })
      if (d !== null && s !== null && v !== null) {
        return t(`${key}.measured`, { km: round(d / 1000, 1), time: duration(s, t), v: round(v) })
      }
      break
    }
    case 'clock_skew': {
      const s = num(e.skew_s)
      if (s !== null) return t(s > 0 ? `${key}.ahead` : `${key}.behind`, { time: duration(s, t) })
      break
    }
    case 'stale_offline': {
      const s = num(e.delay_s)
      if (s !== null) return t(`${key}.measured`, { time: duration(s, t) })
      break
    }
    case 'shared_device': {
      const others = Array.isArray(e.other_user_ids) ? e.other_user_ids.length : null
      const days = num(e.days)
      if (others !== null && days !== null) return t(`${key}.measured`, { n: others, days }, others)
      break
    }
    case 'wifi_mismatch': {
      const seen = Array.isArray(e.seen_bssids) ? e.seen_bssids.length : null
      if (seen !== null) return t(`${key}.measured`, { n: seen }, seen)
      break
    }
    case 'duplicate': {
      const s = num(e.seconds)
      if (s !== null) return t(`${key}.measured`, { time: duration(s, t) })
      break
    }
    case 'off_schedule': {
      const s = num(e.seconds)
      const start = clock(e.shift_start, locale)
      const end = clock(e.shift_end, locale)
      const reason = typeof e.reason === 'string' ? e.reason : ''
      if (s !== null && start && end && te(`${key}.${reason}`)) {
        return t(`${key}.${reason}`, { time: duration(s, t), start, end })
      }
      break
    }
    case 'too_perfect': {
      const n = num(e.identical_elsewhere)
      if (n !== null) return t(`${key}.measured`, { n })
      break
    }
    case 'visit_too_short': {
      const s = num(e.seconds)
      const min = num(e.minimum_min)
      if (s !== null && min !== null) return t(`${key}.measured`, { time: duration(s, t), min })
      break
    }
    case 'sequence':
    case 'visit_unpaired': {
      const reason = typeof e.reason === 'string' ? e.reason : ''
      if (te(`${key}.${reason}`)) return t(`${key}.${reason}`)
      break
    }
    case 'time_proof_mismatch': {
      const s = num(e.seconds_before_arrival)
      if (s !== null) return t(`${key}.measured`, { time: duration(s, t) })
      break
    }
    case 'unsigned': {
      if (e.enrolled_device === true) return t(`${key}.enrolled`)
      break
    }
    case 'time_proof_invalid': {
      if ('elapsed_ms' in e) return t(`${key}.rebooted`)
      if ('claimed' in e) return t(`${key}.future`)
      break
    }
  }
  if (te(`${key}.plain`)) return t(`${key}.plain`)
  return f.detail
}

/** A short name for a rule (a tag or a list row): "不在打卡范围内". */
export function ruleName(rule: string, t: T, te: Te): string {
  return te(`rules.${rule}`) ? t(`rules.${rule}`) : t('rules.other')
}

export type ProblemContext = 'login' | 'correction' | 'general'

/** Seconds to wait from a Retry-After header's value (seconds or an HTTP date). */
export function retryAfterSeconds(value: string | null | undefined, now = Date.now()): number | null {
  if (!value) return null
  const s = Number(value.trim())
  if (Number.isFinite(s) && s >= 0) return Math.ceil(s)
  const at = Date.parse(value)
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000))
}

interface FieldError {
  loc?: unknown[]
  msg?: string
}

function fieldErrors(body: unknown): FieldError[] {
  const b = body as { errors?: unknown; detail?: unknown } | null
  if (Array.isArray(b?.errors)) return b.errors as FieldError[]
  if (Array.isArray(b?.detail)) return b.detail as FieldError[] // FastAPI's own shape
  return []
}

/**
 * What to tell the person about a failed request, in their language. Never a field path, a
 * status code alone or "Failed to fetch".
 */
export function problemText(
  error: unknown,
  t: T,
  te: Te,
  context: ProblemContext = 'general',
): string {
  if (error instanceof NetworkError || (error instanceof TypeError && /fetch/i.test(error.message))) {
    return t(`problems.offline.${context}`)
  }
  if (!(error instanceof ApiError)) return t('problems.unknown')
  const status = error.status
  if (status === 401) return t(context === 'login' ? 'problems.badLogin' : 'problems.expired')
  if (status === 403) return t('problems.forbidden')
  if (status === 404) return t('problems.notFound')
  if (status === 409) return t(context === 'correction' ? 'problems.conflict.correction' : 'problems.conflict.general')
  if (status === 413) return t('problems.tooLarge')
  if (status === 429) {
    const s = retryAfterSeconds(error.retryAfter)
    return s ? t('problems.tooMany.wait', { time: duration(s, t) }) : t('problems.tooMany.later')
  }
  if (status === 422 || status === 400) {
    const names = [
      ...new Set(
        fieldErrors(error.body)
          .map((e) => (Array.isArray(e.loc) && e.loc.length ? String(e.loc[e.loc.length - 1]) : ''))
          .filter((f) => f && te(`fields.${f}`)),
      ),
    ]
    const specific = names.find((f) => te(`problems.field.${context}.${f}`))
    if (specific) return t(`problems.field.${context}.${specific}`)
    if (names.length) {
      return t('problems.invalidFields', { fields: names.map((f) => t(`fields.${f}`)).join(t('problems.listSep')) })
    }
    return t('problems.invalid')
  }
  if (status >= 500) return t('problems.server')
  return t('problems.unknown')
}

export interface NotificationLike {
  kind: string
  title: string
  body: string
  data?: Record<string, unknown> | null
  created_at?: string
}

/**
 * A notification's title and body in the person's language: by its kind when the app knows it,
 * else the server's words.
 */
export function notificationText(n: NotificationLike, t: T, te: Te): { title: string; body: string } {
  const key = `notifications.kinds.${n.kind.replace(/\./g, '_')}`
  if (n.kind === 'correction.decided' || n.kind === 'anomaly.decided') return decisionText(n, key, t, te)
  if (!te(`${key}.title`)) return { title: n.title, body: n.body }
  const d = n.data ?? {}
  const rule = typeof d.rule === 'string' ? ruleName(d.rule, t, te) : ''
  // The server's English names the person after a dash and the times as HH:MM.
  const who = n.title.split(' — ')[1]?.trim() ?? ''
  const time = /\b(\d{1,2}:\d{2})\b/.exec(`${n.title} ${n.body}`)?.[1] ?? ''
  if (n.kind === 'reminder.shift') {
    const edge = /\bends\b/.test(n.body) ? 'End' : 'Start'
    const missed = /not clocked/.test(n.title) ? 'Missed' : ''
    if (!time) return { title: t(`${key}.title`), body: n.body }
    return { title: t(`${key}.title${edge}${missed}`), body: t(`${key}.body${edge}`, { time }) }
  } else if (n.kind === 'reminder.visit') {
    const customer = n.title.split(/:\s(.+)/)[1] ?? ''
    return { title: t(`${key}.title`, { time, customer }), body: t(`${key}.body`) }
  }
  return {
    title: t(`${key}.title`, { rule, who, time }),
    body: te(`${key}.body`) ? t(`${key}.body`, { rule, who, time }) : n.body,
  }
}

/** "3/2 09:01" in the phone's time zone (the person's own punch: their local time). */
function shortTime(iso: unknown): string {
  if (typeof iso !== 'string') return ''
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return ''
  const two = (v: number) => String(v).padStart(2, '0')
  return `${d.getMonth() + 1}/${d.getDate()} ${two(d.getHours())}:${two(d.getMinutes())}`
}

/** A decision about me (my correction request, my flagged punch), from its structured data. */
function decisionText(n: NotificationLike, key: string, t: T, te: Te): { title: string; body: string } {
  const d = n.data ?? {}
  if (d.status !== 'approved' && d.status !== 'rejected') return { title: n.title, body: n.body }
  const correction = n.kind === 'correction.decided'
  const what = correction
    ? typeof d.kind === 'string' && te(`punch.${d.kind}`) ? t(`punch.${d.kind}`) : ''
    : typeof d.rule === 'string' ? ruleName(d.rule, t, te) : ''
  const time = shortTime(correction ? d.at : d.punch_time)
  const comment = typeof d.comment === 'string' && d.comment.trim() ? d.comment.trim() : ''
  const body = t(`${key}.body`, { what, time })
  return {
    title: t(`${key}.${d.status}`),
    body: comment ? `${body}\n${t(`${key}.comment`, { comment })}` : body,
  }
}
