/** A person's open tasks in the order they should be done (pure). */
import type { TaskOut } from '../api/types'

const PRIORITY: Record<TaskOut['priority'], number> = { urgent: 0, high: 1, normal: 2, low: 3 }

export function isOpen(t: TaskOut): boolean {
  return t.status === 'open' || t.status === 'in_progress'
}

export function isOverdue(t: TaskOut, now: number): boolean {
  return isOpen(t) && t.due !== null && Date.parse(t.due) < now
}

/** Open tasks: overdue first, then by due time (none last), then by priority, then oldest. */
export function openTasks(tasks: readonly TaskOut[], now: number): TaskOut[] {
  return tasks
    .filter(isOpen)
    .sort(
      (a, b) =>
        Number(isOverdue(b, now)) - Number(isOverdue(a, now)) ||
        (a.due === null ? 1 : 0) - (b.due === null ? 1 : 0) ||
        (a.due && b.due ? Date.parse(a.due) - Date.parse(b.due) : 0) ||
        PRIORITY[a.priority] - PRIORITY[b.priority] ||
        a.created_at.localeCompare(b.created_at),
    )
}

/** Due by the end of the phone's day (or overdue): what Today shows. */
export function dueToday(tasks: readonly TaskOut[], now: Date): TaskOut[] {
  const end = new Date(now)
  end.setHours(23, 59, 59, 999)
  return openTasks(tasks, now.getTime()).filter((t) => t.due !== null && Date.parse(t.due) <= end.getTime())
}
