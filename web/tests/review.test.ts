import { describe, expect, it } from 'vitest'
import type { AnomalyOut } from '../src/api/types'
import { byPunch, canReview, canReviewPunches, canReviewRequests } from '../src/lib/review'

const anomaly = (id: string, punch: string, severity: AnomalyOut['severity'], time: string, status: AnomalyOut['status'] = 'open'): AnomalyOut => ({
  id,
  punch_id: punch,
  user_id: 'u1',
  rule: 'outside_geofence',
  severity,
  detail: '',
  evidence: {},
  status,
  punch_time: `2026-12-05T${time}:00Z`,
  created_at: `2026-12-05T${time}:00Z`,
  resolved_at: null,
  resolved_by: null,
  comment: '',
})

describe('the review queue', () => {
  it('is one item per punch, worst first, then oldest', () => {
    const items = byPunch([
      anomaly('a1', 'p1', 'warning', '01:00'),
      anomaly('a2', 'p2', 'warning', '00:30'),
      anomaly('a3', 'p1', 'critical', '01:00'),
      anomaly('a4', 'p3', 'info', '00:10'),
      anomaly('a5', 'p4', 'critical', '02:00', 'approved'),
    ])
    expect(items.map((i) => i.punch_id)).toEqual(['p1', 'p2', 'p3'])
    expect(items[0].anomalies.map((a) => a.id)).toEqual(['a1', 'a3'])
    expect(items[0].severity).toBe('critical')
  })

  it('shows by scope, not by role name', () => {
    const me = (scopes: string[]) => ({ scopes }) as never
    expect(canReview(me(['anomalies:read', 'anomalies:review']))).toBe(true)
    expect(canReview(me(['anomalies:read']))).toBe(false)
    expect(canReview(null)).toBe(false)
  })

  it('shows the tab for either queue, and each queue with its own scope', () => {
    const me = (scopes: string[]) => ({ scopes }) as never
    const requestsOnly = me(['attendance:read', 'attendance:review'])
    expect(canReview(requestsOnly)).toBe(true)
    expect(canReviewRequests(requestsOnly)).toBe(true)
    expect(canReviewPunches(requestsOnly)).toBe(false)
    expect(canReview(me(['attendance:read', 'attendance:request']))).toBe(false) // staff
  })
})
