/**
 * The Live page's state from `WS /api/v1/live` messages (docs/api.md, live events): each visible
 * person's latest punch and open anomaly count, the feed of events (newest first), and the
 * highest `seq` seen, to resume from after a drop. Pure: messages in, state changed in place.
 *
 * - A snapshot replaces the people (it is the truth at its `last_event_id`); the feed stays.
 * - A delta is applied once: an event id already in the feed is a repeat and changes nothing.
 * - A replayed delta (after a resume) is already counted in the snapshot: it joins the feed only.
 */
import type { PunchOut } from '../../../src/api/types'

export interface Person {
  user_id: string
  name: string
  team_id: string | null
  latest_punch: PunchOut | null
  open_anomalies: number
}

export interface FeedEntry {
  id: string
  seq: number
  type: string
  at: string
  user_id: string | null
  data: Record<string, unknown>
  replayed: boolean
}

export interface LiveState {
  people: Record<string, Person>
  feed: FeedEntry[]
  lastSeq: number | null
}

export const FEED_MAX = 300

export function emptyState(): LiveState {
  return { people: {}, feed: [], lastSeq: null }
}

interface Snapshot {
  type: 'snapshot'
  last_event_id: number
  users: Person[]
}

interface Delta {
  type: string
  id: string
  seq: number
  at: string
  data: Record<string, unknown>
  replayed?: boolean
}

function subject(d: Delta): string | null {
  const data = d.data ?? {}
  return typeof data.user_id === 'string' ? data.user_id : null
}

/** Apply one parsed message; answers whether it changed anything (pings do not). */
export function apply(state: LiveState, message: unknown): boolean {
  const m = message as { type?: unknown; seq?: unknown }
  if (m?.type === 'snapshot') {
    const s = message as Snapshot
    state.people = Object.fromEntries(s.users.map((u) => [u.user_id, { ...u }]))
    state.lastSeq = Math.max(state.lastSeq ?? 0, s.last_event_id)
    return true
  }
  if (typeof m?.type !== 'string' || typeof m.seq !== 'number') return false // ping, unknown
  const d = message as Delta
  state.lastSeq = Math.max(state.lastSeq ?? 0, d.seq)
  if (state.feed.some((e) => e.id === d.id)) return false
  const entry: FeedEntry = {
    id: d.id,
    seq: d.seq,
    type: d.type,
    at: d.at,
    user_id: subject(d),
    data: d.data ?? {},
    replayed: !!d.replayed,
  }
  // Newest first by seq: a late-committed event (docs/api.md) slots in where it belongs.
  const at = state.feed.findIndex((e) => e.seq < d.seq)
  state.feed.splice(at < 0 ? state.feed.length : at, 0, entry)
  if (state.feed.length > FEED_MAX) state.feed.length = FEED_MAX
  if (!d.replayed) applyToPeople(state, d)
  else markPunch(state, d) // a status change still shows on the feed's earlier entry
  return true
}

function applyToPeople(state: LiveState, d: Delta): void {
  const who = subject(d)
  const person = who ? state.people[who] : undefined
  switch (d.type) {
    case 'punch.created': {
      const punch = d.data as unknown as PunchOut
      if (!who) return
      const p = person ?? (state.people[who] = { user_id: who, name: who, team_id: null, latest_punch: null, open_anomalies: 0 })
      // Only a newer punch moves the person (an offline punch may arrive late).
      if (!p.latest_punch || punch.trusted_time >= p.latest_punch.trusted_time) p.latest_punch = punch
      return
    }
    case 'punch.updated':
      markPunch(state, d)
      return
    case 'anomaly.created':
      if (person) person.open_anomalies += 1
      return
    case 'anomaly.resolved':
      if (person) person.open_anomalies = Math.max(0, person.open_anomalies - 1)
      return
  }
}

/** `punch.updated`: the new status on the person's latest punch and the feed's entries. */
function markPunch(state: LiveState, d: Delta): void {
  if (d.type !== 'punch.updated') return
  const id = d.data.id
  const status = d.data.status as PunchOut['status'] | undefined
  if (typeof id !== 'string' || !status) return
  for (const p of Object.values(state.people)) {
    if (p.latest_punch?.id === id) p.latest_punch = { ...p.latest_punch, status }
  }
  for (const e of state.feed) {
    if (e.type === 'punch.created' && e.data.id === id) e.data = { ...e.data, status }
  }
}

export interface Filters {
  team: string | null
  status: string | null
  kind: string | null
}

/** The people the filters keep (status `none`: nobody has punched yet). */
export function visiblePeople(state: LiveState, f: Filters): Person[] {
  return Object.values(state.people)
    .filter((p) => !f.team || p.team_id === f.team)
    .filter((p) => !f.status || (p.latest_punch?.status ?? 'none') === f.status)
    .filter((p) => !f.kind || p.latest_punch?.kind === f.kind)
    .sort((a, b) => a.name.localeCompare(b.name))
}

/** The feed entries the filters keep: by the person's team, the punch's status and kind. */
export function visibleFeed(state: LiveState, f: Filters): FeedEntry[] {
  return state.feed.filter((e) => {
    if (f.team && (!e.user_id || state.people[e.user_id]?.team_id !== f.team)) return false
    if (f.kind && e.data.kind !== f.kind) return false
    if (f.status && e.data.status !== f.status) return false
    return true
  })
}
