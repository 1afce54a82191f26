import { describe, expect, it } from 'vitest'
import { LiveLink, pauseMs, type LinkState } from '../src/lib/socket'
import { apply, emptyState } from '../src/lib/feed'
import { afterRemoval, keyAction, moved } from '../src/lib/keys'
import { dayStart } from '../src/lib/day'

class FakeSocket {
  onopen: ((ev: unknown) => void) | null = null
  onmessage: ((ev: { data: unknown }) => void) | null = null
  onclose: ((ev: { code: number; reason: string }) => void) | null = null
  sent: unknown[] = []
  closed = false
  send(data: string): void {
    this.sent.push(JSON.parse(data))
  }
  close(): void {
    this.closed = true
  }
  receive(message: object): void {
    this.onmessage?.({ data: JSON.stringify(message) })
  }
  drop(code: number, reason = ''): void {
    this.onclose?.({ code, reason })
  }
}

function harness(tokens: (string | null)[] = ['t1', 't2', 't3']) {
  const sockets: FakeSocket[] = []
  const timers: { fn: () => void; ms: number }[] = []
  const states: LinkState[] = []
  const renewals: boolean[] = []
  const state = emptyState()
  const link = new LiveLink({
    url: 'ws://x/api/v1/live',
    open: () => {
      const s = new FakeSocket()
      sockets.push(s)
      return s
    },
    token: async (renew) => {
      renewals.push(renew)
      return tokens.length ? tokens.shift()! : 'tn'
    },
    lastSeq: () => state.lastSeq,
    onMessage: (m) => apply(state, m),
    onState: (s) => states.push(s),
    later: (fn, ms) => timers.push({ fn, ms }),
    cancel: () => {},
  })
  return { link, sockets, timers, states, renewals, state }
}

const tick = () => new Promise((r) => setTimeout(r, 0))

describe('the live link', () => {
  it('authenticates by message, resumes from the highest seq after a drop, and catches up', async () => {
    const h = harness()
    h.link.start()
    await tick()
    const first = h.sockets[0]
    first.onopen?.({})
    expect(first.sent).toEqual([{ type: 'auth', token: 't1' }])
    first.receive({ type: 'snapshot', last_event_id: 40, resumed: false, users: [] })
    first.receive({ type: 'punch.created', id: 'e41', seq: 41, at: 'x', data: { user_id: 'u' } })
    expect(h.states.at(-1)).toBe('live')
    first.drop(1012, 'restart')
    expect(h.states.at(-1)).toBe('offline')
    expect(h.timers[0].ms).toBe(pauseMs(0))
    h.timers[0].fn()
    await tick()
    const second = h.sockets[1]
    second.onopen?.({})
    expect(second.sent).toEqual([{ type: 'auth', token: 't2', last_event_id: 41 }])
    second.receive({ type: 'snapshot', last_event_id: 43, resumed: true, users: [] })
    second.receive({ type: 'punch.created', id: 'e42', seq: 42, at: 'x', data: { user_id: 'u' }, replayed: true })
    second.receive({ type: 'punch.created', id: 'e43', seq: 43, at: 'x', data: { user_id: 'u' }, replayed: true })
    expect(h.state.feed.map((e) => e.seq)).toEqual([43, 42, 41])
  })

  it('refreshes the token after 4401 and stops for good on 4403', async () => {
    const h = harness()
    h.link.start()
    await tick()
    h.sockets[0].drop(4401, 'expired')
    h.timers[0].fn()
    await tick()
    expect(h.renewals).toEqual([false, true])
    h.sockets[1].drop(4403, 'no punches:read')
    expect(h.states.at(-1)).toBe('refused')
    expect(h.timers).toHaveLength(1)
  })

  it('waits longer after each failed attempt, up to 15 s, and stops when signed out', async () => {
    expect([0, 1, 2, 3, 10].map(pauseMs)).toEqual([500, 1000, 2000, 4000, 15000])
    const h = harness([null])
    h.link.start()
    await tick()
    expect(h.sockets).toHaveLength(0)
    expect(h.states.at(-1)).toBe('refused')
  })

  it('a stopped link does not come back', async () => {
    const h = harness()
    h.link.start()
    await tick()
    h.link.stop()
    h.sockets[0].drop(1006)
    expect(h.timers).toHaveLength(0)
    expect(h.sockets[0].closed).toBe(true)
  })
})

describe('review keys', () => {
  it('maps j/k/a/r, never while typing or with a modifier', () => {
    expect(keyAction({ key: 'j' })).toBe('next')
    expect(keyAction({ key: 'k' })).toBe('prev')
    expect(keyAction({ key: 'a' })).toBe('approve')
    expect(keyAction({ key: 'r' })).toBe('reject')
    expect(keyAction({ key: 'x' })).toBeNull()
    expect(keyAction({ key: 'a', target: { tagName: 'textarea' } })).toBeNull()
    expect(keyAction({ key: 'r', ctrlKey: true })).toBeNull()
    expect(keyAction({ key: 'j', target: { tagName: 'INPUT', type: 'text' } })).toBeNull()
    expect(keyAction({ key: 'j', target: { tagName: 'INPUT', type: 'checkbox' } })).toBe('next')
  })

  it('keeps the cursor inside the list', () => {
    expect(moved(0, 3, -1)).toBe(0)
    expect(moved(2, 3, 1)).toBe(2)
    expect(moved(1, 3, 1)).toBe(2)
    expect(moved(0, 0, 1)).toBe(-1)
    expect(afterRemoval(2, 2)).toBe(1)
    expect(afterRemoval(0, 0)).toBe(-1)
  })
})

describe('the org day', () => {
  it('starts at local midnight in the org zone, whatever the hour', () => {
    // 2026-12-04 23:30 in Shanghai is 15:30 UTC; 00:10 on the 5th is 16:10 UTC on the 4th
    expect(dayStart(new Date('2026-12-04T15:30:00Z'), 'Asia/Shanghai').toISOString()).toBe('2026-12-03T16:00:00.000Z')
    expect(dayStart(new Date('2026-12-04T16:10:00Z'), 'Asia/Shanghai').toISOString()).toBe('2026-12-04T16:00:00.000Z')
    expect(dayStart(new Date('2026-03-29T12:00:00Z'), 'Europe/Berlin').toISOString()).toBe('2026-03-28T23:00:00.000Z')
    expect(dayStart(new Date('2026-11-01T18:00:00Z'), 'America/New_York').toISOString()).toBe('2026-11-01T04:00:00.000Z')
  })
})
