/**
 * A manager's "my team today" (pure): each person's day from today's punches (who clocked in
 * and when, who is at a customer, who punched out of range) and the attendance day the server
 * computed (late, absent, on leave), the people who need attention first.
 */
import type { DayOut, PunchOut, UserOut } from '../api/types'

export type TeamState = 'absent' | 'late' | 'not_yet' | 'field' | 'working' | 'off' | 'leave'

export interface TeamRow {
  user_id: string
  name: string
  state: TeamState
  first_in: string | null
  last_out: string | null
  late_min: number
  /** A punch today was outside every fence (the server's `outside_geofence`). */
  out_of_range: boolean
  /** The customer of a visit checked in and not yet out. */
  at_customer: string | null
}

const ATTENTION: Record<TeamState, number> = {
  absent: 0,
  late: 1,
  not_yet: 2,
  field: 3,
  working: 4,
  off: 5,
  leave: 6,
}

function personRow(user: UserOut, day: DayOut | undefined, punches: PunchOut[]): TeamRow {
  const mine = punches.filter((p) => p.status !== 'rejected').sort((a, b) => a.captured_at.localeCompare(b.captured_at))
  const clocks = mine.filter((p) => p.kind === 'clock_in' || p.kind === 'clock_out')
  const firstIn = clocks.find((p) => p.kind === 'clock_in')?.captured_at ?? day?.first_in ?? null
  const lastClock = clocks.at(-1)
  const lastVisit = mine.filter((p) => p.kind === 'visit_in' || p.kind === 'visit_out').at(-1)
  const atCustomer = lastVisit?.kind === 'visit_in' ? (lastVisit.customer?.name ?? null) : null
  const late = day ? day.late_min : 0
  const statuses = day?.statuses ?? []
  let state: TeamState
  if (lastClock?.kind === 'clock_out') state = 'off'
  else if (atCustomer) state = 'field'
  else if (firstIn) state = late > 0 || statuses.includes('late') || statuses.includes('serious_late') ? 'late' : 'working'
  else if (statuses.includes('leave')) state = 'leave'
  else if (statuses.includes('absent')) state = 'absent'
  else state = 'not_yet'
  return {
    user_id: user.id,
    name: user.name,
    state,
    first_in: firstIn,
    last_out: lastClock?.kind === 'clock_out' ? lastClock.captured_at : null,
    late_min: late,
    out_of_range: mine.some((p) => p.anomalies.some((a) => a.rule === 'outside_geofence')),
    at_customer: atCustomer,
  }
}

/** One row per active staff member or manager (not the viewer), who needs attention first. */
export function teamToday(
  users: readonly UserOut[],
  days: readonly DayOut[],
  punches: readonly PunchOut[],
  viewer: string | null,
): TeamRow[] {
  const dayOf = new Map(days.map((d) => [d.user_id, d]))
  const byUser = new Map<string, PunchOut[]>()
  for (const p of punches) byUser.set(p.user_id, [...(byUser.get(p.user_id) ?? []), p])
  return users
    .filter((u) => u.active !== false && u.id !== viewer && u.role !== 'admin')
    .map((u) => personRow(u, dayOf.get(u.id), byUser.get(u.id) ?? []))
    .sort((a, b) => ATTENTION[a.state] - ATTENTION[b.state] || Number(b.out_of_range) - Number(a.out_of_range) || a.name.localeCompare(b.name))
}

/** How many have clocked in (or are at a customer) today. */
export function clockedIn(rows: readonly TeamRow[]): number {
  return rows.filter((r) => r.first_in !== null || r.at_customer !== null).length
}
