/**
 * What the attendance pages read: the computed days of a month (GET /attendance/days, every page),
 * the attendance reports (GET /reports/attendance, JSON) and their downloads (CSV, XLSX), fetched
 * with the signed-in person's token and saved from the blob.
 */
import { ApiError, api, authFetch, ok } from '../../../../src/api/client'
import type { components } from '../../../../src/api/schema'
import { readAll } from '../../lib/paged'

export type Day = components['schemas']['DayOut']
export type Edge = components['schemas']['DayEdge']
export type Report = components['schemas']['AttendanceReport']
export type ReportView = 'daily' | 'monthly' | 'department' | 'exceptions'
export type ReportFormat = 'xlsx' | 'csv'
export type Lang = 'zh' | 'en'

export { loadTeams, type Team } from '../../lib/directory'

/** Every computed day of the month for the people the caller sees (one team's own people). */
export async function loadDays(month: string, last: string, teamId: string | null): Promise<Day[]> {
  const query = { from: `${month}-01`, to: last, team_id: teamId, limit: 500 }
  return (await readAll((cursor) => ok(api.GET('/api/v1/attendance/days', { params: { query: { ...query, cursor } } })))).items
}

/** One JSON report, every page of it (summaries are a row per person or per team). */
export async function loadReport(view: ReportView, month: string, teamId: string | null, lang: Lang): Promise<Report> {
  const query = { view, month, team_id: teamId, lang, limit: 500 }
  // The path also answers CSV and XLSX, so its JSON shape is named here.
  const page = async (cursor?: string): Promise<Report> => (await ok(api.GET('/api/v1/reports/attendance', { params: { query: { ...query, cursor } } }))) as Report
  const { first, items } = await readAll(page)
  return { ...first, items }
}

/** The URL of a report download (the whole month, in the report's language). */
export function downloadUrl(view: ReportView, format: ReportFormat, month: string, teamId: string | null, lang: Lang): string {
  const q = new URLSearchParams({ view, format, month, lang })
  if (teamId) q.set('team_id', teamId)
  return `/api/v1/reports/attendance?${q}`
}

/** The file name the server gave (`filename*=UTF-8''…` first), else `fallback`. */
export function fileName(disposition: string | null, fallback: string): string {
  if (!disposition) return fallback
  const star = /filename\*=UTF-8''([^;]+)/i.exec(disposition)
  if (star) {
    try {
      return decodeURIComponent(star[1])
    } catch {
      /* fall through to the plain name */
    }
  }
  const plain = /filename="?([^";]+)"?/i.exec(disposition)
  return plain ? plain[1] : fallback
}

/**
 * Download a report with the bearer token (a plain link would go without it): fetch, then save the
 * blob under the server's file name. Answers that name; a refusal throws the problem's detail.
 */
export async function download(url: string, fallback: string): Promise<string> {
  const r = await authFetch(new Request(url))
  if (!r.ok) {
    let detail = r.statusText
    try {
      const problem = (await r.json()) as { detail?: unknown }
      if (typeof problem.detail === 'string') detail = problem.detail
    } catch {
      /* not JSON: the status text says it */
    }
    throw new ApiError(r.status, detail)
  }
  const name = fileName(r.headers.get('Content-Disposition'), fallback)
  const href = URL.createObjectURL(await r.blob())
  const a = document.createElement('a')
  a.href = href
  a.download = name
  a.style.display = 'none'
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(href), 60_000)
  return name
}
