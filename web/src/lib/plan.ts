/**
 * Today's visits for the rep (pure): the server's plan for the day merged with the visit
 * punches this phone knows (sent or still queued), so a check-in made offline shows "in
 * progress" at once; in time order, each with its distance from here.
 */
import type { PunchKind, VisitOut } from '../api/types'
import { measure, type Fence } from './geo'

export type PlanState = 'planned' | 'in_progress' | 'done' | 'missed' | 'cancelled'

/** A visit punch of today as the app holds it (state.today's rows). */
export interface VisitPunch {
  client_id: string
  kind: PunchKind
  captured_at: string
  customer_id: string | null
  visit_id: string | null
  /** The server's punch id once it answered. */
  punch_id: string | null
}

export interface PlanRow {
  key: string
  /** Null for an unplanned visit the server has not made yet (a check-in still queued). */
  visit: VisitOut | null
  customer_id: string
  customer: Fence | null
  state: PlanState
  planned: boolean
  start: string | null
  end: string | null
  /** From here to the customer's centre; null without a position or customer location. */
  distance_m: number | null
  inside: boolean
  /** The check-in of this visit that the phone holds (for check-out and its answers). */
  check_in: VisitPunch | null
  check_out: VisitPunch | null
}

export interface Here {
  lat: number
  lon: number
  accuracy_m: number
}

function isVisitPunch(p: VisitPunch): boolean {
  return p.kind === 'visit_in' || p.kind === 'visit_out'
}

/** A punch that names the visit, or that the server paired with it. */
function names(p: VisitPunch, v: VisitOut): boolean {
  if (p.visit_id) return p.visit_id === v.id
  return !!p.punch_id && (p.punch_id === v.in_punch_id || p.punch_id === v.out_punch_id)
}

/** The visit's state with the phone's own punches on top of the server's word. */
function stateWith(v: VisitOut, ins: VisitPunch[], outs: VisitPunch[]): PlanState {
  if (v.state === 'cancelled' || v.state === 'done') return v.state
  const lastIn = ins.at(-1)
  const lastOut = outs.at(-1)
  const started = !!lastIn || v.state === 'in_progress'
  if (started && lastOut && (!lastIn || lastOut.captured_at >= lastIn.captured_at)) return 'done'
  return started ? 'in_progress' : v.state
}

function when(v: VisitOut): string | null {
  return v.planned_start ?? v.started_at
}

/**
 * Rows in time order (planned start, else check-in time; undated last), ties by distance.
 * Each punch counts for one visit only: the first (in time order) that it belongs to.
 */
export function planRows(
  visits: readonly VisitOut[],
  punches: readonly VisitPunch[],
  customers: readonly Fence[],
  here: Here | null,
): PlanRow[] {
  const byId = new Map(customers.map((c) => [c.id, c]))
  const distance = (c: Fence | null) =>
    c && here ? measure(c, here.lat, here.lon, here.accuracy_m) : null
  const sorted = [...visits]
    .filter((v) => v.state !== 'cancelled')
    .sort((a, b) => order(when(a), when(b)) || a.id.localeCompare(b.id))
  const mine = punches.filter(isVisitPunch).sort((a, b) => a.captured_at.localeCompare(b.captured_at))
  const used = new Set<string>()
  const claimed = new Map<string, VisitPunch[]>()
  const give = (v: VisitOut, ps: VisitPunch[]) => {
    for (const p of ps) used.add(p.client_id)
    claimed.set(v.id, [...(claimed.get(v.id) ?? []), ...ps])
  }
  for (const v of sorted) give(v, mine.filter((p) => names(p, v)))
  // A punch naming no visit, not yet paired by the server: the first open visit at its customer
  // (in time order) takes one check-in and the check-outs after it.
  for (const v of sorted) {
    if (v.state === 'done' || claimed.get(v.id)?.length) continue
    const free = mine.filter((p) => !used.has(p.client_id) && !p.visit_id && p.customer_id === v.customer_id)
    const first = free.findIndex((p) => p.kind === 'visit_in')
    if (first < 0) continue
    const again = free.findIndex((p, i) => i > first && p.kind === 'visit_in')
    give(v, free.slice(first, again < 0 ? free.length : again))
  }
  const rows: PlanRow[] = sorted.map((v) => {
    const own = claimed.get(v.id) ?? []
    const ins = own.filter((p) => p.kind === 'visit_in')
    const outs = own.filter((p) => p.kind === 'visit_out')
    const c = byId.get(v.customer_id) ?? null
    const d = distance(c)
    return {
      key: v.id,
      visit: v,
      customer_id: v.customer_id,
      customer: c,
      state: stateWith(v, ins, outs),
      planned: v.planned,
      start: when(v),
      end: v.planned_end,
      distance_m: d ? d.distance_m : null,
      inside: d ? d.inside : false,
      check_in: ins[0] ?? null,
      check_out: outs.at(-1) ?? null,
    }
  })
  // Check-ins the server has not turned into a visit yet: unplanned visits of this phone.
  for (const p of mine) {
    if (used.has(p.client_id) || p.kind !== 'visit_in' || !p.customer_id) continue
    used.add(p.client_id)
    const out = mine.find(
      (o) => !used.has(o.client_id) && o.kind === 'visit_out' && o.customer_id === p.customer_id && o.captured_at >= p.captured_at,
    )
    if (out) used.add(out.client_id)
    const c = byId.get(p.customer_id) ?? null
    const d = distance(c)
    rows.push({
      key: p.client_id,
      visit: null,
      customer_id: p.customer_id,
      customer: c,
      state: out ? 'done' : 'in_progress',
      planned: false,
      start: p.captured_at,
      end: null,
      distance_m: d ? d.distance_m : null,
      inside: d ? d.inside : false,
      check_in: p,
      check_out: out ?? null,
    })
  }
  return rows.sort(
    (a, b) => order(a.start, b.start) || (a.distance_m ?? Infinity) - (b.distance_m ?? Infinity),
  )
}

function order(a: string | null, b: string | null): number {
  if (a === b) return 0
  if (a === null) return 1
  if (b === null) return -1
  return Date.parse(a) - Date.parse(b)
}

/** What the row's button does next: check in, check out, or nothing (done, missed is still a check-in). */
export function nextAction(row: PlanRow): 'visit_in' | 'visit_out' | null {
  if (row.state === 'in_progress') return 'visit_out'
  if (row.state === 'planned' || row.state === 'missed') return 'visit_in'
  return null
}
