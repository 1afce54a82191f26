import { describe, expect, it } from 'vitest'
import { apply, emptyState, visibleFeed, visiblePeople } from '../src/lib/feed'
import { statusColour, statusOf } from '../src/lib/status'

const punch = (id: string, user: string, time: string, status = 'accepted', kind = 'clock_in') => ({
  id,
  user_id: user,
  status,
  kind,
  trusted_time: time,
  location: { lat: 31.2, lon: 121.5, accuracy_m: 10 },
})

const snapshot = (last: number, users: unknown[] = []) => ({ type: 'snapshot', last_event_id: last, resumed: false, users })
const person = (id: string, team: string | null, latest: unknown = null, open = 0) => ({
  user_id: id,
  name: id.toUpperCase(),
  team_id: team,
  latest_punch: latest,
  open_anomalies: open,
})
const delta = (seq: number, type: string, data: object, replayed = false) => ({
  type,
  id: `evt_${seq}`,
  seq,
  at: '2026-12-04T04:00:00Z',
  data,
  ...(replayed ? { replayed } : {}),
})

describe('live state', () => {
  it('takes the snapshot, then moves a person to their newer punch and lists it first', () => {
    const s = emptyState()
    apply(s, snapshot(10, [person('u1', 't1', punch('p0', 'u1', '2026-12-04T01:00:00Z')), person('u2', 't2')]))
    expect(s.lastSeq).toBe(10)
    apply(s, delta(11, 'punch.created', punch('p1', 'u1', '2026-12-04T03:00:00Z', 'flagged')))
    apply(s, delta(12, 'anomaly.created', { id: 'a1', user_id: 'u1', punch_id: 'p1' }))
    expect(s.people.u1.latest_punch?.id).toBe('p1')
    expect(s.people.u1.open_anomalies).toBe(1)
    expect(s.feed.map((e) => e.seq)).toEqual([12, 11])
    expect(s.lastSeq).toBe(12)
  })

  it('keeps the newer punch when an older (offline) one arrives later', () => {
    const s = emptyState()
    apply(s, snapshot(1, [person('u1', null, punch('p2', 'u1', '2026-12-04T05:00:00Z'))]))
    apply(s, delta(2, 'punch.created', punch('p1', 'u1', '2026-12-04T02:00:00Z')))
    expect(s.people.u1.latest_punch?.id).toBe('p2')
    expect(s.feed).toHaveLength(1)
  })

  it('applies an event once, however often it comes, and ignores pings', () => {
    const s = emptyState()
    apply(s, snapshot(1, [person('u1', null)]))
    const e = delta(2, 'anomaly.created', { id: 'a', user_id: 'u1' })
    expect(apply(s, e)).toBe(true)
    expect(apply(s, e)).toBe(false)
    expect(apply(s, { type: 'ping', at: 'x' })).toBe(false)
    expect(s.people.u1.open_anomalies).toBe(1)
  })

  it('after a resume: a fresh snapshot, replayed events in the feed but not counted twice', () => {
    const s = emptyState()
    apply(s, snapshot(5, [person('u1', null, null, 0)]))
    apply(s, delta(6, 'punch.created', punch('p1', 'u1', '2026-12-04T03:00:00Z', 'flagged')))
    // the drop; events 7 and 8 happened meanwhile; the resumed snapshot already counts them
    apply(s, { ...snapshot(8, [person('u1', null, punch('p1', 'u1', '2026-12-04T03:00:00Z', 'approved'), 0)]), resumed: true })
    apply(s, delta(7, 'anomaly.created', { id: 'a', user_id: 'u1' }, true))
    apply(s, delta(8, 'punch.updated', { id: 'p1', status: 'approved' }, true))
    expect(s.people.u1.open_anomalies).toBe(0)
    expect(s.feed.map((e) => e.seq)).toEqual([8, 7, 6])
    expect(s.feed[2].data.status).toBe('approved') // the earlier punch entry shows the decision
    expect(s.lastSeq).toBe(8)
  })

  it('a late-committed event slots into seq order', () => {
    const s = emptyState()
    apply(s, snapshot(0))
    apply(s, delta(3, 'correction.created', { user_id: 'u' }))
    apply(s, delta(2, 'correction.created', { user_id: 'u' }))
    expect(s.feed.map((e) => e.seq)).toEqual([3, 2])
    expect(s.lastSeq).toBe(3)
  })

  it('filters people and the feed by team, status and kind', () => {
    const s = emptyState()
    apply(
      s,
      snapshot(1, [
        person('a', 't1', punch('pa', 'a', '2026-12-04T01:00:00Z', 'flagged', 'visit_in')),
        person('b', 't2', punch('pb', 'b', '2026-12-04T01:00:00Z')),
        person('c', 't1'),
      ]),
    )
    apply(s, delta(2, 'punch.created', punch('pb2', 'b', '2026-12-04T02:00:00Z', 'accepted', 'clock_out')))
    const none = { team: null, status: null, kind: null }
    expect(visiblePeople(s, none).map((p) => p.user_id)).toEqual(['a', 'b', 'c'])
    expect(visiblePeople(s, { ...none, team: 't1' }).map((p) => p.user_id)).toEqual(['a', 'c'])
    expect(visiblePeople(s, { ...none, status: 'none' }).map((p) => p.user_id)).toEqual(['c'])
    expect(visiblePeople(s, { ...none, kind: 'visit_in' }).map((p) => p.user_id)).toEqual(['a'])
    expect(visibleFeed(s, { ...none, team: 't2' })).toHaveLength(1)
    expect(visibleFeed(s, { ...none, team: 't1' })).toHaveLength(0)
    expect(visibleFeed(s, { ...none, kind: 'clock_in' })).toHaveLength(0)
  })
})

describe('status colours', () => {
  it('gives every status its own colour and grey to nobody', () => {
    const colours = ['accepted', 'flagged', 'approved', 'rejected', 'none'].map(statusColour)
    expect(new Set(colours).size).toBe(5)
    expect(statusColour(statusOf(null))).toBe(statusColour('none'))
    expect(statusColour('unheard-of')).toBe(statusColour('none'))
  })
})
