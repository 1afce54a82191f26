/**
 * The person's inbox (`GET /api/v1/notifications`): its unread count is the badge on the Me tab.
 * Decisions on my anomalies and corrections arrive there too (`anomaly.decided`,
 * `correction.decided`); Me also marks them "new" against the last time it was opened.
 */
import { reactive } from 'vue'
import { api, ok } from './api/client'
import type { NotificationOut } from './api/types'

const SEEN = 'fieldpunch.decisionsSeenAt'
const POLL_MS = 60_000

export const inbox = reactive({
  items: [] as NotificationOut[],
  unread: 0,
  loaded: false,
})

function seenKey(uid: string): string {
  return `${SEEN}.${uid}`
}

/** When Me was last opened (ISO); the first time ever counts as now (old decisions are not news). */
export function decisionsSeenAt(uid: string): string {
  const saved = localStorage.getItem(seenKey(uid))
  if (saved) return saved
  const now = new Date().toISOString()
  localStorage.setItem(seenKey(uid), now)
  return now
}

export function markDecisionsSeen(uid: string): void {
  localStorage.setItem(seenKey(uid), new Date().toISOString())
}

export async function refreshInbox(): Promise<void> {
  const page = await ok(api.GET('/api/v1/notifications', { params: { query: { limit: 50 } } }))
  inbox.items = page.items
  inbox.unread = page.unread_count
  inbox.loaded = true
}

export async function markRead(id: string): Promise<void> {
  const item = inbox.items.find((n) => n.id === id)
  if (!item || item.read_at) return
  const updated = await ok(
    api.POST('/api/v1/notifications/{notification_id}/read', {
      params: { path: { notification_id: id } },
    }),
  )
  item.read_at = updated.read_at ?? new Date().toISOString()
  inbox.unread = Math.max(0, inbox.unread - 1)
}

export async function markAllRead(): Promise<void> {
  await ok(api.POST('/api/v1/notifications/read-all'))
  const now = new Date().toISOString()
  for (const n of inbox.items) n.read_at ??= now
  inbox.unread = 0
}

let timer = 0
let current: string | null = null

async function poll(): Promise<void> {
  const uid = current
  if (!uid || !navigator.onLine || document.visibilityState === 'hidden') return
  await Promise.allSettled([refreshInbox()])
}

function onWake(): void {
  void poll()
}

/** Keep the badge fresh while signed in: now, every minute, when visible again or back online. */
export function watchInbox(uid: string | null): void {
  window.clearInterval(timer)
  document.removeEventListener('visibilitychange', onWake)
  window.removeEventListener('online', onWake)
  current = uid
  if (!uid) {
    inbox.items = []
    inbox.unread = 0
    inbox.loaded = false
    return
  }
  timer = window.setInterval(onWake, POLL_MS)
  document.addEventListener('visibilitychange', onWake)
  window.addEventListener('online', onWake)
  void poll()
}
