/**
 * Where the person's working day stands, from today's punches (the server's and the queued):
 * it decides what the big button offers. A refused punch does not count; a second clock-in
 * after clock-out is not offered (it would only be flagged as a duplicate), but clocking out
 * again is: the day's last clock-out is the one that counts.
 */
import type { PunchKind } from '../api/types'

export type DayPhase = 'before' | 'working' | 'done'

export interface DayRow {
  kind: PunchKind
  captured_at: string
  /** The server's verdict when answered; null while queued. */
  punch?: { status: string } | null
}

export interface Day {
  phase: DayPhase
  /** What the big button punches: clock_in, clock_out, or (done) an updated clock_out. */
  next: PunchKind
  clockIn: DayRow | null
  clockOut: DayRow | null
}

export function dayOf(rows: readonly DayRow[]): Day {
  const counted = rows
    .filter((r) => (r.kind === 'clock_in' || r.kind === 'clock_out') && r.punch?.status !== 'rejected')
    .sort((a, b) => a.captured_at.localeCompare(b.captured_at))
  const clockIn = counted.find((r) => r.kind === 'clock_in') ?? null
  const lastIn = [...counted].reverse().find((r) => r.kind === 'clock_in') ?? null
  const clockOut =
    [...counted].reverse().find((r) => r.kind === 'clock_out' && (!lastIn || r.captured_at >= lastIn.captured_at)) ??
    null
  if (clockOut) return { phase: 'done', next: 'clock_out', clockIn, clockOut }
  if (clockIn) return { phase: 'working', next: 'clock_out', clockIn, clockOut: null }
  return { phase: 'before', next: 'clock_in', clockIn: null, clockOut: null }
}
