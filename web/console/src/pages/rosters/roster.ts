/** Reading and writing the roster (GET /rosters, PUT /rosters) for the roster grid. */
import { api, ok } from '../../../../src/api/client'
import type { components } from '../../../../src/api/schema'
import { readAll } from '../../lib/paged'

export type Shift = components['schemas']['ShiftOut']
/** A cell: a shift id, `rest`, or null (no entry). */
export type Value = string | null
export interface Person {
  id: string
  name: string
}

export const key = (userId: string, date: string): string => `${userId}|${date}`

const PALETTE = ['#1561d4', '#e58a00', '#0e8a8a', '#8e44ad', '#d6336c', '#0a7d3b', '#5b6bbf', '#a0522d']

/** Each shift its own colour, in the order the shifts are listed. */
export function shiftColours(shifts: Shift[]): Record<string, string> {
  return Object.fromEntries(shifts.map((s, i) => [s.id, PALETTE[i % PALETTE.length]]))
}

export async function loadShifts(): Promise<Shift[]> {
  const page = await ok(api.GET('/api/v1/shifts', { params: { query: { limit: 500 } } }))
  return page.items
}

/** The active people the caller sees (of one team when given), by name. */
export async function loadPeople(teamId: string | null): Promise<Person[]> {
  const { items } = await readAll((cursor) => ok(api.GET('/api/v1/users', { params: { query: { team_id: teamId, active: true, limit: 500, cursor } } })))
  const people: Person[] = items.map((u) => ({ id: u.id, name: u.name }))
  return people.sort((a, b) => a.name.localeCompare(b.name, 'zh-CN') || a.id.localeCompare(b.id))
}

/** Every stored entry from `from` to `to`: cell key → shift id or `rest`. */
export async function loadRoster(from: string, to: string, teamId: string | null): Promise<Record<string, string>> {
  const { items } = await readAll((cursor) => ok(api.GET('/api/v1/rosters', { params: { query: { from, to, team_id: teamId, limit: 500, cursor } } })))
  const cells: Record<string, string> = {}
  for (const person of items) for (const d of person.days) cells[key(person.user_id, d.date)] = d.shift_id
  return cells
}

/** Save the changed cells as single-day entries (null clears the day). */
export async function saveRoster(changes: Record<string, Value>): Promise<{ set: number; cleared: number }> {
  const entries = Object.entries(changes).map(([k, shift_id]) => {
    const [user_id, date] = k.split('|')
    return { user_id, date, shift_id }
  })
  return await ok(api.PUT('/api/v1/rosters', { body: { entries } }))
}
