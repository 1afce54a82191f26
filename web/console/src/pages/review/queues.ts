/**
 * The three queues of the review page, one shape: items to decide, each with the person, a
 * title and a time, decided alone or in bulk with one comment. Anomalies are grouped by punch
 * (a punch flagged for two reasons is one decision: `POST /anomalies/resolve`, all or none),
 * as the field app's review tab does (web/src/lib/review.ts).
 */
import { api, ok } from '../../../../src/api/client'
import type { components } from '../../../../src/api/schema'
import { byPunch, type PunchReview } from '../../../../src/lib/review'

type S = components['schemas']
export type AnomalyDetail = S['AnomalyDetail']
export type CorrectionDetail = S['CorrectionDetail']
export type CorrectionOut = S['CorrectionOut']
export type RequestOut = S['RequestOut']
export type Decision = 'approve' | 'reject'

export type QueueName = 'anomalies' | 'corrections' | 'requests'

export type Item =
  | { queue: 'anomalies'; key: string; user_id: string; when: string; severity: string; review: PunchReview }
  | { queue: 'corrections'; key: string; user_id: string; when: string; correction: CorrectionOut }
  | { queue: 'requests'; key: string; user_id: string; when: string; request: RequestOut }

export interface Queue {
  name: QueueName
  /** The scope that lets a person decide (GET /me's scopes). */
  scope: string
  load: () => Promise<Item[]>
  decide: (items: Item[], decision: Decision, comment: string) => Promise<void>
}

const anomalies: Queue = {
  name: 'anomalies',
  scope: 'anomalies:review',
  async load() {
    const page = await ok(api.GET('/api/v1/anomalies', { params: { query: { status: 'open', limit: 500 } } }))
    return byPunch(page.items).map((r) => ({
      queue: 'anomalies' as const,
      key: r.punch_id,
      user_id: r.user_id,
      when: r.punch_time,
      severity: r.severity,
      review: r,
    }))
  },
  async decide(items, decision, comment) {
    const ids = items.flatMap((i) => (i.queue === 'anomalies' ? i.review.anomalies.map((a) => a.id) : []))
    // The API takes up to 500 ids at once: larger selections go in slices.
    for (let at = 0; at < ids.length; at += 500) {
      await ok(api.POST('/api/v1/anomalies/resolve', { body: { decision, comment, ids: ids.slice(at, at + 500) } }))
    }
  },
}

const corrections: Queue = {
  name: 'corrections',
  scope: 'corrections:review',
  async load() {
    const page = await ok(api.GET('/api/v1/corrections', { params: { query: { status: 'pending', limit: 500 } } }))
    return [...page.items]
      .sort((a, b) => a.created_at.localeCompare(b.created_at))
      .map((c) => ({ queue: 'corrections' as const, key: c.id, user_id: c.user_id, when: c.at, correction: c }))
  },
  async decide(items, decision, comment) {
    for (const i of items) {
      if (i.queue !== 'corrections') continue
      const params = { path: { correction_id: i.key } }
      if (decision === 'approve') await ok(api.POST('/api/v1/corrections/{correction_id}/approve', { params, body: { comment } }))
      else await ok(api.POST('/api/v1/corrections/{correction_id}/reject', { params, body: { comment } }))
    }
  },
}

const requests: Queue = {
  name: 'requests',
  scope: 'attendance:review',
  async load() {
    const page = await ok(api.GET('/api/v1/requests', { params: { query: { status: 'pending', limit: 500 } } }))
    return [...page.items]
      .sort((a, b) => a.created_at.localeCompare(b.created_at))
      .map((r) => ({ queue: 'requests' as const, key: r.id, user_id: r.user_id, when: r.start, request: r }))
  },
  async decide(items, decision, comment) {
    for (const i of items) {
      if (i.queue !== 'requests') continue
      const params = { path: { request_id: i.key } }
      if (decision === 'approve') await ok(api.POST('/api/v1/requests/{request_id}/approve', { params, body: { comment } }))
      else await ok(api.POST('/api/v1/requests/{request_id}/reject', { params, body: { comment } }))
    }
  },
}

export const QUEUES: Queue[] = [anomalies, corrections, requests]

/** People's names for the queues (a manager sees their teams' people). */
export async function names(): Promise<Record<string, string>> {
  try {
    const page = await ok(api.GET('/api/v1/users', { params: { query: { limit: 500 } } }))
    return Object.fromEntries(page.items.map((u) => [u.id, u.name]))
  } catch {
    return {} // the queue still works: items show without names
  }
}
