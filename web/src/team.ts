/** The manager's "my team today": people, their attendance days and today's punches. */
import { reactive } from 'vue'
import { api, ok } from './api/client'
import { teamToday, type TeamRow } from './lib/team'
import { userId } from './state'
import { localDay } from './visits'

export const team = reactive({ rows: [] as TeamRow[], loaded: false, error: false })

export async function loadTeam(): Promise<void> {
  const day = localDay()
  const midnight = new Date()
  midnight.setHours(0, 0, 0, 0)
  try {
    // Managers see their teams' people, days and punches; the server scopes each list.
    const [users, days, punches] = await Promise.all([
      ok(api.GET('/api/v1/users', { params: { query: { active: true, limit: 500 } } })),
      ok(api.GET('/api/v1/attendance/days', { params: { query: { from: day, to: day, limit: 500 } } })),
      ok(api.GET('/api/v1/punches', { params: { query: { from: midnight.toISOString(), limit: 500 } } })),
    ])
    team.rows = teamToday(users.items, days.items, punches.items, userId())
    team.error = false
  } catch {
    team.error = true
  }
  team.loaded = true
}
