/**
 * Guards for the punch buttons against double taps: a punch answers in ~0.1 s and the button then
 * offers the opposite kind, so a second tap 300 ms later would record a clock-out.
 *
 * - a cool-down after each tap ignores further taps while the verdict shows;
 * - a punch of the opposite kind soon after the last one asks for confirmation first.
 */
import type { PunchKind } from '../api/types'

/** Taps are ignored while a punch is stored and sent, and this long after (the verdict shows). */
export const COOLDOWN_MS = 2_000
/** A punch of the opposite kind this soon after the last one asks "are you sure?". */
export const CONFIRM_WITHIN_MS = 60_000

const OPPOSITE: Partial<Record<PunchKind, PunchKind>> = {
  clock_in: 'clock_out',
  clock_out: 'clock_in',
  visit_in: 'visit_out',
  visit_out: 'visit_in',
}

export class TapGuard {
  private busy = false
  private until = 0

  constructor(private readonly cooldownMs = COOLDOWN_MS) {}

  /** Whether a tap at `now` may punch; when it may, the guard stays closed until `end()`. */
  begin(now: number): boolean {
    if (this.closed(now)) return false
    this.busy = true
    return true
  }

  /** The punch is stored (and sent when online): taps stay ignored for the cool-down. */
  end(now: number): number {
    this.busy = false
    this.until = now + this.cooldownMs
    return this.cooldownMs
  }

  /** Open at once (a cancelled confirmation, an error before anything was stored). */
  reset(): void {
    this.busy = false
    this.until = 0
  }

  closed(now: number): boolean {
    return this.busy || now < this.until
  }
}

export interface LastPunch {
  kind: PunchKind
  captured_at: string
}

/**
 * Whether punching `kind` now needs confirmation: the last punch of the pair was the opposite kind
 * and less than `within` ago. Returns the seconds since it, or null when no confirmation is needed.
 */
export function needsConfirm(
  kind: PunchKind,
  last: LastPunch | null | undefined,
  now: number,
  within = CONFIRM_WITHIN_MS,
): number | null {
  if (!last || OPPOSITE[kind] !== last.kind) return null
  const ago = now - new Date(last.captured_at).getTime()
  return ago >= 0 && ago < within ? Math.round(ago / 1000) : null
}
