/**
 * The manager's queue on the phone: open anomalies grouped by punch (a punch flagged for two
 * reasons is one decision, sent as one all-or-none `POST /anomalies/resolve`), and pending
 * correction requests (补卡). Whether the tab shows at all is the caller's scope, not its role
 * name: an admin reviews too, and a role's scopes may change.
 */
import { reactive } from 'vue'
import { api, ok } from '../api/client'
import type { AnomalyOut, CorrectionOut, MeOut } from '../api/types'

export interface PunchReview {
  punch_id: string
  user_id: string
  punch_time: string
  anomalies: AnomalyOut[]
  /** The worst severity among them: the order of the queue. */
  severity: AnomalyOut['severity']
}

const RANK: Record<AnomalyOut['severity'], number> = { critical: 0, warning: 1, info: 2 }

export function canReview(me: MeOut | null): boolean {
  return !!me?.scopes?.includes('anomalies:review')
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
  names: {} as Record<string, string>,
  loaded: false,
  error: false,
})

export async function loadQueue(): Promise<void> {
  try {
    const [a, c] = await Promise.all([
      ok(api.GET('/api/v1/anomalies', { params: { query: { status: 'open', limit: 500 } } })),
      ok(api.GET('/api/v1/corrections', { params: { query: { status: 'pending', limit: 200 } } })),
    ])
    queue.punches = byPunch(a.items)
    queue.corrections = [...c.items].sort((x, y) => x.created_at.localeCompare(y.created_at))
    queue.error = false
    await loadNames([...a.items.map((x) => x.user_id), ...c.items.map((x) => x.user_id)])
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
