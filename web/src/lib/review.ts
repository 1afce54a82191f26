/**
 * The manager's queue on the phone: open anomalies grouped by punch (a punch flagged for two
 * reasons is one decision, sent as one all-or-none `POST /anomalies/resolve`), and pending
 * correction requests (补卡). Whether the tab shows at all is the caller's scope, not its role
 * name: an admin reviews too, and a role's scopes may change.
 */
import { reactive } from 'vue'
import { api, ApiError, ok } from '../api/client'
import type { AnomalyOut, CorrectionOut, MeOut, RequestOut } from '../api/types'
import { byStart } from './requests'

export interface PunchReview {
  punch_id: string
  user_id: string
  punch_time: string
  anomalies: AnomalyOut[]
  /** The worst severity among them: the order of the queue. */
  severity: AnomalyOut['severity']
}

const RANK: Record<AnomalyOut['severity'], number> = { critical: 0, warning: 1, info: 2 }

/** Flagged punches and 补卡 (`anomalies:review`). */
export function canReviewPunches(me: MeOut | null): boolean {
  return !!me?.scopes?.includes('anomalies:review')
}

/** Leave, trip, out and overtime requests (`attendance:review`). */
export function canReviewRequests(me: MeOut | null): boolean {
  return !!me?.scopes?.includes('attendance:review')
}

/** Whether the manager tab shows at all: either queue. */
export function canReview(me: MeOut | null): boolean {
  return canReviewPunches(me) || canReviewRequests(me)
}

/** One item per punch, worst first, then oldest first (it has waited longest). */
export function byPunch(anomalies: readonly AnomalyOut[]): PunchReview[] {
  const groups = new Map<string, PunchReview>()
  for (const a of anomalies) {
    if (a.status !== 'open') continue
    const g = groups.get(a.punch_id)
    if (!g) {
      groups.set(a.punch_id, {
        punch_id: a.punch_id,
        user_id: a.user_id,
        punch_time: a.punch_time,
        anomalies: [a],
        severity: a.severity,
      })
    } else {
      g.anomalies.push(a)
      if (RANK[a.severity] < RANK[g.severity]) g.severity = a.severity
    }
  }
  return [...groups.values()].sort(
    (x, y) => RANK[x.severity] - RANK[y.severity] || x.punch_time.localeCompare(y.punch_time),
  )
}

export const queue = reactive({
  punches: [] as PunchReview[],
  corrections: [] as CorrectionOut[],
  /** Pending requests the caller may decide (never their own). */
  requests: [] as RequestOut[],
  /** Set when someone else decided a request first and the queue was reloaded. */
  decidedElsewhere: false,
  names: {} as Record<string, string>,
  loaded: false,
  error: false,
})

/** The queues `me` may decide: each only with its scope. */
export async function loadQueue(me: MeOut | null): Promise<void> {
  const none = { items: [] as never[] }
  try {
    const [a, c, r] = await Promise.all([
      canReviewPunches(me)
        ? ok(api.GET('/api/v1/anomalies', { params: { query: { status: 'open', limit: 500 } } }))
        : none,
      canReviewPunches(me)
        ? ok(api.GET('/api/v1/corrections', { params: { query: { status: 'pending', limit: 200 } } }))
        : none,
      canReviewRequests(me)
        ? ok(api.GET('/api/v1/requests', { params: { query: { status: 'pending', limit: 200 } } }))
        : none,
    ])
    queue.punches = byPunch(a.items)
    queue.corrections = [...c.items].sort((x, y) => x.created_at.localeCompare(y.created_at))
    // A manager sees their own requests too, but never decides them (403).
    queue.requests = byStart(r.items.filter((x) => x.user_id !== me?.user_id))
    queue.error = false
    await loadNames([...a.items, ...c.items, ...queue.requests].map((x) => x.user_id))
  } catch {
    queue.error = true
  } finally {
    queue.loaded = true
  }
}

/** People's names for the queue (the manager sees their teams' people). */
async function loadNames(ids: string[]): Promise<void> {
  if (ids.every((id) => id in queue.names)) return
  try {
    const page = await ok(api.GET('/api/v1/users', { params: { query: { limit: 500 } } }))
    for (const u of page.items) queue.names[u.id] = u.name
  } catch {
    /* the queue still works: the item shows without a name */
  }
}

export async function decidePunch(item: PunchReview, decision: 'approve' | 'reject', comment: string): Promise<void> {
  await ok(
    api.POST('/api/v1/anomalies/resolve', {
      body: { decision, comment, ids: item.anomalies.map((a) => a.id) },
    }),
  )
  queue.punches = queue.punches.filter((p) => p.punch_id !== item.punch_id)
}

export async function decideCorrection(c: CorrectionOut, decision: 'approve' | 'reject', comment: string): Promise<void> {
  const params = { path: { correction_id: c.id } }
  if (decision === 'approve') {
    await ok(api.POST('/api/v1/corrections/{correction_id}/approve', { params, body: { comment } }))
  } else {
    await ok(api.POST('/api/v1/corrections/{correction_id}/reject', { params, body: { comment } }))
  }
  queue.corrections = queue.corrections.filter((x) => x.id !== c.id)
}

/**
 * Approve or reject a request. A `409` means it is no longer pending (someone decided it first,
 * or the filer withdrew it): the queue is reloaded and says so. A `409` on a request still
 * pending is an overlap with an approved one: the caller shows it.
 */
export async function decideRequest(
  me: MeOut | null,
  r: RequestOut,
  decision: 'approve' | 'reject',
  comment: string,
): Promise<void> {
  const params = { path: { request_id: r.id } }
  queue.decidedElsewhere = false
  try {
    if (decision === 'approve') {
      await ok(api.POST('/api/v1/requests/{request_id}/approve', { params, body: { comment } }))
    } else {
      await ok(api.POST('/api/v1/requests/{request_id}/reject', { params, body: { comment } }))
    }
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 409)) throw e
    await loadQueue(me)
    if (queue.requests.some((x) => x.id === r.id)) throw e
    queue.decidedElsewhere = true
    return
  }
  queue.requests = queue.requests.filter((x) => x.id !== r.id)
}
