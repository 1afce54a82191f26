/** My tasks: the open ones (cached for offline reading), done with a tap, comments. */
import { reactive } from 'vue'
import { api, ok } from './api/client'
import type { CommentOut, TaskOut } from './api/types'
import { cacheGet, cachePut, openDb } from './lib/db'
import { isOpen } from './lib/tasks'
import { userId } from './state'

export const tasks = reactive({
  items: [] as TaskOut[],
  loaded: false,
  error: false,
  comments: {} as Record<string, CommentOut[]>,
})

export async function loadTasks(): Promise<void> {
  const uid = userId()
  if (!uid) return
  const db = await openDb()
  try {
    const items: TaskOut[] = []
    for (const status of ['open', 'in_progress'] as const) {
      const page = await ok(api.GET('/api/v1/tasks', { params: { query: { mine: true, status, limit: 200 } } }))
      items.push(...page.items)
    }
    await cachePut(db, `tasks:${uid}`, items)
    tasks.items = items
    tasks.error = false
  } catch {
    const cached = await cacheGet<TaskOut[]>(db, `tasks:${uid}`)
    tasks.items = cached?.value ?? []
    tasks.error = cached === null
  }
  tasks.loaded = true
}

/** Mark a task done (needs a connection: the answer is the server's). */
export async function completeTask(id: string): Promise<void> {
  const updated = await ok(
    api.PATCH('/api/v1/tasks/{task_id}', { params: { path: { task_id: id } }, body: { status: 'done' } }),
  )
  tasks.items = tasks.items.map((t) => (t.id === id ? updated : t)).filter(isOpen)
  const uid = userId()
  if (uid) await cachePut(await openDb(), `tasks:${uid}`, tasks.items)
}

export async function loadComments(id: string): Promise<void> {
  const list = await ok(api.GET('/api/v1/tasks/{task_id}/comments', { params: { path: { task_id: id } } }))
  tasks.comments[id] = list.items
}

export async function addComment(id: string, body: string): Promise<void> {
  const c = await ok(
    api.POST('/api/v1/tasks/{task_id}/comments', { params: { path: { task_id: id } }, body: { body } }),
  )
  tasks.comments[id] = [...(tasks.comments[id] ?? []), c]
}
