import { describe, expect, it } from 'vitest'
import { newDecisions } from '../src/notifications'

describe('decisions since Me was last opened', () => {
  it('counts decided anomalies and corrections after the instant', () => {
    const since = '2026-03-02T08:00:00Z'
    const n = newDecisions(
      [
        { status: 'approved', resolved_at: '2026-03-02T09:00:00+00:00' },
        { status: 'superseded', resolved_at: '2026-03-02T09:00:00Z' },
        { status: 'rejected', resolved_at: '2026-03-01T09:00:00Z' },
        { status: 'open', resolved_at: null },
      ] as never,
      [
        { status: 'rejected', decided_at: '2026-03-02T08:30:00Z' },
        { status: 'pending', decided_at: null },
      ] as never,
      since,
    )
    expect(n).toBe(2)
  })
})
