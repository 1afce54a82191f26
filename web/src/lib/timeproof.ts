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
 */
import type { TimeOut, TimeProofIn } from '../api/types'

export interface Anchor {
  user_id: string
  token: string
  server_time: string
  elapsed_ms: number
  fetched_at: number
}

export type Clock = () => number

let anchor: Anchor | null = null

export const monotonic: Clock = () => performance.now()

/** Fetch a new anchor; the monotonic reading is the midpoint of the request (half the RTT). */
export async function refreshAnchor(
  userId: string,
  fetchTime: () => Promise<TimeOut>,
  clock: Clock = monotonic,
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
  }
  return anchor
}

export function currentAnchor(): Anchor | null {
  return anchor
}

export function clearAnchor(): void {
  anchor = null
}

/** The proof for a punch captured now, or null without an anchor for this person. */
export function proofNow(userId: string, clock: Clock = monotonic): TimeProofIn | null {
  if (!anchor || anchor.user_id !== userId) return null
  return {
    anchor_token: anchor.token,
    anchor_server_time: anchor.server_time,
    anchor_elapsed_ms: anchor.elapsed_ms,
    elapsed_ms: Math.max(anchor.elapsed_ms, Math.round(clock())),
  }
}
