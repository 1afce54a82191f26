/** The colour of a punch status on the map and in the feed (the legend's order). */
import type { PunchOut } from '../../../src/api/types'

export type Status = PunchOut['status'] | 'none'

export const STATUSES: readonly Status[] = ['accepted', 'flagged', 'approved', 'rejected', 'none']

const COLOURS: Record<Status, string> = {
  accepted: '#0a7d3b', // green: nothing to look at
  flagged: '#d46b08', // orange: waits for a reviewer
  approved: '#1561d4', // blue: a reviewer accepted it
  rejected: '#c4231c', // red: a reviewer refused it
  none: '#8a919e', // grey: no punch yet
}

export function statusOf(punch: Pick<PunchOut, 'status'> | null | undefined): Status {
  return punch?.status ?? 'none'
}

export function statusColour(status: Status | string | null | undefined): string {
  return COLOURS[(status ?? 'none') as Status] ?? COLOURS.none
}

/** Element Plus tag type for a status. */
export function statusTag(status: Status): 'success' | 'warning' | 'primary' | 'danger' | 'info' {
  return ({ accepted: 'success', flagged: 'warning', approved: 'primary', rejected: 'danger', none: 'info' } as const)[
    status
  ]
}
