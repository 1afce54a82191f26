/**
 * Time proofs (API.md, `time_proof`): the server's `{now, token}` from GET /api/v1/time, kept
 * with the page's monotonic clock (`performance.now()`) at that moment. A punch carries the
 * anchor and the monotonic clock at capture, so the server can date it as
 * `now + (elapsed_ms − anchor_elapsed_ms)` whatever the phone's wall clock says.
 *
 * `performance.now()` starts again at zero when the page loads, so an anchor is only valid in
 * the page session that fetched it: it is kept in memory, never stored, and fetched again on
 * every load (and periodically) while online. Punches made offline in the same page session
 * carry a proof; a punch made offline after a reload carries none and is dated by the server
 * from its `captured_at` with `offline: true` (the stale-offline and clock-skew rules apply).
 *
 * A phone asleep stops `performance.now()` on Android (Linux's CLOCK_MONOTONIC does not count
 * suspend), so after a sleep the proof would date a punch too early and the server would flag
 * it (`time_proof_mismatch`). The wall clock keeps counting: when the two disagree by more than
 * SLEEP_SLACK_MS since the anchor, the anchor proves nothing any more and is not used.
 */
import type { TimeOut, TimeProofIn } from '../api/types'

export interface Anchor {
  user_id: string
  token: string
  server_time: string
  elapsed_ms: number
  fetched_at: number
  /** The wall clock (Date.now()) when the anchor arrived. */
  wall_ms: number
  /** How long the server lets this anchor date punches (its expires_at − now). */
  lifetime_ms: number
}

export type Clock = () => number

let anchor: Anchor | null = null

export const monotonic: Clock = () => performance.now()
export const SLEEP_SLACK_MS = 5_000

/** Fetch a new anchor; the monotonic reading is the midpoint of the request (half the RTT). */
export async function refreshAnchor(
  userId: string,
  fetchTime: () => Promise<TimeOut>,
  clock: Clock = monotonic,
  wall: Clock = Date.now,
): Promise<Anchor> {
  const t0 = clock()
  const answer = await fetchTime()
  const t1 = clock()
  anchor = {
    user_id: userId,
    token: answer.token,
    server_time: answer.now,
    elapsed_ms: Math.round((t0 + t1) / 2),
    fetched_at: t1,
    wall_ms: wall(),
    lifetime_ms: Date.parse(answer.expires_at) - Date.parse(answer.now),
  }
  return anchor
}

export function currentAnchor(): Anchor | null {
  return anchor
}

export function clearAnchor(): void {
  anchor = null
}

/** Whether the monotonic clock stopped for a while since the anchor (the phone slept). */
export function anchorSlept(a: Anchor, clock: Clock = monotonic, wall: Clock = Date.now): boolean {
  return wall() - a.wall_ms - (clock() - a.fetched_at) > SLEEP_SLACK_MS
}

/** The proof for a punch captured now, or null without a live anchor for this person. */
export function proofNow(
  userId: string,
  clock: Clock = monotonic,
  wall: Clock = Date.now,
): TimeProofIn | null {
  if (!anchor || anchor.user_id !== userId || anchorSlept(anchor, clock, wall)) return null
  // Past its lifetime the server would not believe it (time_anchor_expired): send none.
  if (clock() - anchor.elapsed_ms > anchor.lifetime_ms) return null
  return {
    anchor_token: anchor.token,
    anchor_server_time: anchor.server_time,
    anchor_elapsed_ms: anchor.elapsed_ms,
    elapsed_ms: Math.max(anchor.elapsed_ms, Math.round(clock())),
  }
}
