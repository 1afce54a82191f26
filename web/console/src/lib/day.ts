/** The start of "today" in the organization's time zone, as an instant (for `from=` filters). */

/** Minutes the zone is ahead of UTC at `instant`. */
export function zoneOffsetMin(instant: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(instant)
  const n = (type: string): number => Number(parts.find((p) => p.type === type)?.value)
  const wall = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second'))
  return Math.round((wall - Math.floor(instant.getTime() / 1000) * 1000) / 60_000)
}

/** Local midnight of the day `now` falls on in `timeZone` (twice corrected: DST days). */
export function dayStart(now: Date, timeZone: string): Date {
  const local = new Date(now.getTime() + zoneOffsetMin(now, timeZone) * 60_000)
  const midnightWall = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate())
  let guess = midnightWall - zoneOffsetMin(new Date(midnightWall), timeZone) * 60_000
  guess = midnightWall - zoneOffsetMin(new Date(guess), timeZone) * 60_000
  return new Date(guess)
}

/** A time of day as people read it: HH:MM:SS in the org's zone (else the browser's). */
export function clock(iso: string, locale: string, timeZone?: string): string {
  const options = { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false } as const
  return new Date(iso).toLocaleTimeString(locale, timeZone ? { ...options, timeZone } : options)
}
