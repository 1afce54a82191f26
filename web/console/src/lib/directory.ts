/**
 * Who and what the caller may see, for names in lists and choices in filters: people, customers
 * and teams (first 500 of each, as the pages have always read them).
 */
import { api, ok } from '../../../src/api/client'
import type { CustomerOut, UserOut } from '../../../src/api/types'

export interface Team {
  id: string
  name: string
}

export async function loadUsers(): Promise<UserOut[]> {
  return (await ok(api.GET('/api/v1/users', { params: { query: { limit: 500 } } }))).items
}

export async function loadCustomers(): Promise<CustomerOut[]> {
  return (await ok(api.GET('/api/v1/customers', { params: { query: { limit: 500 } } }))).items
}

/** The teams the caller sees, by name (a manager: theirs and their sub-teams). */
export async function loadTeams(): Promise<Team[]> {
  const page = await ok(api.GET('/api/v1/teams', { params: { query: { limit: 500 } } }))
  return page.items.map((t) => ({ id: t.id, name: t.name })).sort((a, b) => a.name.localeCompare(b.name, 'zh-CN'))
}
