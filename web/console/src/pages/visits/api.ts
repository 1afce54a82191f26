/**
 * The visit pages' calls. The reports (`/reports/visits`, `/performance`, `/route`,
 * `/heatmap`) and the customer timeline are not in the OpenAPI snapshot the typed client is
 * generated from, so they go through the same authenticated fetch with their shapes here.
 */
import { ApiError, authFetch } from '../../../../src/api/client'

type Query = Record<string, string | number | boolean | null | undefined>

function url(path: string, query: Query = {}): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) if (v !== null && v !== undefined && v !== '') q.set(k, String(v))
  const s = q.toString()
  return `/api/v1${path}${s ? `?${s}` : ''}`
}

async function problem(r: Response): Promise<ApiError> {
  let body: unknown = null
  let detail = r.statusText
  try {
    body = await r.json()
    const d = (body as { detail?: unknown }).detail
    detail = typeof d === 'string' ? d : d != null ? JSON.stringify(d) : detail
  } catch {
    /* not JSON */
  }
  return new ApiError(r.status, detail, body, r.headers.get('Retry-After'))
}

export async function call<T>(method: string, path: string, query?: Query, body?: unknown): Promise<T> {
  const init: RequestInit = { method }
  if (body !== undefined) {
    init.body = JSON.stringify(body)
    init.headers = { 'Content-Type': 'application/json' }
  }
  const r = await authFetch(new Request(url(path, query), init))
  if (!r.ok) throw await problem(r)
  return (r.status === 204 ? null : await r.json()) as T
}

/** A photo's watermarked copy as an object URL (revoke it when done). */
export async function photoUrl(id: string): Promise<string> {
  const r = await authFetch(new Request(url(`/photos/${encodeURIComponent(id)}/content`, { variant: 'watermarked' })))
  if (!r.ok) throw await problem(r)
  return URL.createObjectURL(await r.blob())
}

export interface Named {
  id: string
  name: string
}

/** Everyone and every customer the caller may see, by id (for names in lists). */
export async function directory(): Promise<{ users: Named[]; customers: Named[]; teams: Named[] }> {
  const [users, customers, teams] = await Promise.all([
    call<{ items: Named[] }>('GET', '/users', { limit: 500 }),
    call<{ items: Named[] }>('GET', '/customers', { limit: 500 }),
    call<{ items: Named[] }>('GET', '/teams', { limit: 500 }),
  ])
  return { users: users.items, customers: customers.items, teams: teams.items }
}

export interface ReportColumn {
  key: string
  header: string
  type: string
}

export interface Report {
  title: string
  from: string
  to: string
  columns: ReportColumn[]
  items: Record<string, unknown>[]
  next_cursor: string | null
}

export interface TimelineItem {
  type: 'visit' | 'task' | 'comment'
  id: string
  at: string
  user_id: string | null
  title: string
  state: string | null
  detail: Record<string, unknown>
}

export interface Timeline {
  items: TimelineItem[]
  next_cursor: string | null
  last_visit_at: string | null
  visits_done: number
}

export interface RouteStop {
  visit_id: string
  customer_id: string
  customer: string | null
  started_at: string
  ended_at: string | null
  duration_min: number | null
}

export interface RouteFeature {
  type: 'Feature'
  id?: string
  geometry: { type: 'LineString' | 'Point'; coordinates: number[][] | number[] }
  properties: Record<string, unknown>
}

export interface RouteDay {
  type: 'FeatureCollection'
  features: RouteFeature[]
  distance_m: number
  stops: RouteStop[]
  minutes_at_customers: number
}

export interface HeatCell {
  type: 'Feature'
  id: string
  geometry: { type: 'Polygon'; coordinates: number[][][] }
  properties: { cell: string; count: number }
}
