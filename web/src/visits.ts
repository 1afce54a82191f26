/**
 * Today's visits and the visit form: the plan from the server (cached for offline use), the
 * org's form and outcomes, and the queue of visit records sent after their punches.
 */
import { reactive } from 'vue'
import { api, ApiError, ok, uploadPhoto } from './api/client'
import type { VisitField, VisitOut, VisitOutcome } from './api/types'
import { RecordQueue } from './lib/answers'
import { cacheGet, cachePut, openDb, type RecordItem } from './lib/db'
import { afterSync, punchState, state, userId } from './state'

/** While a record waits for the server to pair its punches, look again this often. */
const RETRY_MS = 3_000
const RETRIES = 40

export const plan = reactive({
  visits: [] as VisitOut[],
  loaded: false,
  /** The plan could not be fetched and none is cached. */
  error: false,
  fields: [] as VisitField[],
  outcomes: [] as VisitOutcome[],
  /** Records (form answers) not yet on the server, and those it refused. */
  records: { pending: 0, rejected: 0 },
})

let queue: RecordQueue | null = null
let retryTimer = 0
let retries = 0

async function records(): Promise<RecordQueue> {
  queue ??= new RecordQueue(await openDb())
  return queue
}

/** The phone's local date, YYYY-MM-DD. */
export function localDay(d: Date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`
}

async function cached<T>(key: string, fetch: () => Promise<T>): Promise<T | null> {
  const db = await openDb()
  try {
    const value = await fetch()
    await cachePut(db, key, value)
    return value
  } catch {
    return (await cacheGet<T>(db, key))?.value ?? null
  }
}

/** Today's visits of the signed-in person (planned, in progress, done, missed, unplanned). */
export async function loadPlan(): Promise<void> {
  const uid = userId()
  if (!uid) return
  const day = localDay()
  const visits = await cached(`plan:${uid}:${day}`, async () => {
    const [dated, open] = await Promise.all([
      ok(api.GET('/api/v1/visits', { params: { query: { user_id: uid, from: day, to: day, limit: 200 } } })),
      // Plans with no date wait for the person's next check-in there: today's too.
      ok(api.GET('/api/v1/visits', { params: { query: { user_id: uid, state: 'planned', limit: 200 } } })),
    ])
    return [...dated.items, ...open.items.filter((v) => v.day === null)]
  })
  plan.visits = visits ?? []
  plan.error = visits === null
  plan.loaded = true
}

/** The org's visit form and outcome list (cached: a check-out offline still shows the form). */
export async function loadForm(): Promise<void> {
  const [form, outcomes] = await Promise.all([
    cached('visit-form', async () => (await ok(api.GET('/api/v1/visit-form'))).fields),
    cached('visit-outcomes', async () => (await ok(api.GET('/api/v1/visit-outcomes'))).outcomes),
  ])
  plan.fields = form ?? []
  plan.outcomes = outcomes ?? []
}

export type NewRecord = Omit<RecordItem, 'seq' | 'state' | 'attempts' | 'problem' | 'created_at' | 'user_id'>

/** Queue a visit's record (made at check-out) behind its punches, then try to send it. */
export async function saveRecord(record: NewRecord): Promise<void> {
  const uid = userId()
  if (!uid) return
  await (await records()).add({ ...record, user_id: uid })
  retries = 0
  await refreshRecords()
  if (navigator.onLine) void syncRecords()
}

export async function refreshRecords(): Promise<void> {
  const uid = userId()
  if (!uid) return
  const items = await (await records()).items(uid)
  plan.records = {
    pending: items.filter((i) => i.state === 'pending').length,
    rejected: items.filter((i) => i.state === 'rejected').length,
  }
}

export async function recordItems(): Promise<RecordItem[]> {
  const uid = userId()
  return uid ? (await records()).items(uid) : []
}

export async function dismissRecord(seq: number): Promise<void> {
  await (await records()).dismiss(seq)
  await refreshRecords()
}

async function findVisit(item: RecordItem, inPunch: string | null, outPunch: string | null): Promise<string | null> {
  const page = await ok(
    api.GET('/api/v1/visits', {
      params: {
        query: { user_id: item.user_id, customer_id: item.customer_id, from: item.day, to: item.day, limit: 200 },
      },
    }),
  )
  const found = page.items.find(
    (v) => (inPunch && v.in_punch_id === inPunch) || (outPunch && v.out_punch_id === outPunch),
  )
  return found?.id ?? null
}

function refusal(error: unknown): string | null {
  if (!(error instanceof ApiError)) return null
  if (error.status >= 500 || error.status === 408 || error.status === 429 || error.status === 401) return null
  return error.detail || `HTTP ${error.status}`
}

/** Send the records whose visits exist; look again shortly while the server pairs punches. */
export async function syncRecords(): Promise<void> {
  const uid = userId()
  if (!uid) return
  const q = await records()
  if ((await q.pending(uid)).length === 0) return
  const report = await q.sync(uid, {
    punch: punchState,
    findVisit,
    upload: (photo) => uploadPhoto(photo, 'visit-form.jpg'),
    patch: async (visitId, body) => {
      await ok(api.PATCH('/api/v1/visits/{visit_id}', { params: { path: { visit_id: visitId } }, body }))
    },
    refusal,
  })
  await refreshRecords()
  if (report.sent) void loadPlan()
  window.clearTimeout(retryTimer)
  if (report.waiting && !report.error && state.online && retries++ < RETRIES) {
    retryTimer = window.setTimeout(() => void syncRecords(), RETRY_MS)
  }
}

afterSync.push(async () => {
  await syncRecords()
  await loadPlan()
})
