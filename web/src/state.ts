/**
 * Application state and the services around it: session, device key, outbox and its sync
 * triggers, position watch, time anchor, cached places and customers.
 */
import { reactive } from 'vue'
import {
  api,
  ApiError,
  loadTokens,
  login as apiLogin,
  logout as apiLogout,
  NetworkError,
  ok,
  uploadPhoto,
  whenSignedOut,
} from './api/client'
import type {
  BatchItemOut,
  CustomerOut,
  MeOut,
  PlaceOut,
  PunchIn,
  PunchKind,
  PunchOut,
} from './api/types'
import { cacheGet, cachePut, openDb, type Db, type OutboxItem, type SentRecord } from './lib/db'
import { ensureEnrolled } from './lib/device'
import type { Fence } from './lib/geo'
import { Outbox } from './lib/outbox'
import { capture, photoPreparer, type Position, type PunchExtras } from './lib/punch'
import { clearAnchor, currentAnchor, refreshAnchor } from './lib/timeproof'

const ME = 'fieldpunch.me'
const SYNC_EVERY_MS = 30_000
const ANCHOR_EVERY_MS = 10 * 60_000

export interface Verdict {
  client_id: string
  kind: PunchKind
  captured_at: string
  /** 'queued' until the server answered. */
  state: 'queued' | 'answered' | 'failed' | 'rejected'
  punch: PunchOut | null
  problem: string | null
}

export interface TodayRow {
  client_id: string
  kind: PunchKind
  captured_at: string
  customer_id: string | null
  visit_id: string | null
  queued: boolean
  punch: PunchOut | null
}

export const state = reactive({
  me: null as MeOut | null,
  online: typeof navigator === 'undefined' ? true : navigator.onLine,
  deviceId: null as string | null,
  fingerprint: null as string | null,
  enrolError: null as string | null,
  position: null as Position | null,
  positionError: null as string | null,
  queue: { pending: 0, failed: 0, rejected: 0 },
  syncing: false,
  lastSyncAt: null as string | null,
  syncError: null as string | null,
  anchored: false,
  verdict: null as Verdict | null,
  places: [] as Fence[],
  fencesLoaded: false,
  customers: [] as (Fence & { customer: CustomerOut })[],
  /** Today's punches: server answers merged with what is still queued, newest last. */
  today: [] as TodayRow[],
})

let db: Db | null = null
let outbox: Outbox | null = null
let timers: number[] = []
let watchId: number | null = null

async function database(): Promise<Db> {
  db ??= await openDb()
  return db
}

async function box(): Promise<Outbox> {
  outbox ??= new Outbox(await database())
  return outbox
}

export function userId(): string | null {
  return state.me?.user_id ?? null
}

// --- session ---------------------------------------------------------------------------------

export function restoreSession(): boolean {
  const raw = localStorage.getItem(ME)
  if (!raw || !loadTokens()) return false
  try {
    state.me = JSON.parse(raw) as MeOut
  } catch {
    return false
  }
  return true
}

export async function signIn(email: string, password: string, orgId?: string): Promise<void> {
  await apiLogin(email, password, orgId)
  const me = await ok(api.GET('/api/v1/me'))
  if (!me.user_id) throw new ApiError(403, 'not a person')
  localStorage.setItem(ME, JSON.stringify(me))
  state.me = me
  await enrol()
}

export function signOut(): void {
  stop()
  void apiLogout() // revokes the sign-in on the server; forgets the tokens at once
  localStorage.removeItem(ME)
  clearAnchor()
  state.me = null
  state.deviceId = null
  state.verdict = null
  state.today = []
}

whenSignedOut(() => {
  signOut()
  window.location.assign(`${import.meta.env.BASE_URL}login`)
})

/** Make (once) and enrol (once) this browser's key for the signed-in person. */
export async function enrol(): Promise<void> {
  const uid = userId()
  if (!uid) return
  try {
    const record = await ensureEnrolled(await database(), uid, async (publicKey) =>
      ok(
        api.POST('/api/v1/devices', {
          body: { public_key: publicKey, platform: 'web', label: deviceLabel() },
        }),
      ),
    )
    state.deviceId = record.device_id
    state.fingerprint = record.fingerprint
    state.enrolError = null
  } catch (e) {
    state.enrolError = e instanceof Error ? e.message : String(e)
  }
}

function deviceLabel(): string {
  const ua = navigator.userAgent
  const m = /\(([^)]+)\)/.exec(ua)
  return `web · ${(m?.[1] ?? ua).slice(0, 80)}`
}

// --- background work -------------------------------------------------------------------------

/** Start everything a signed-in app runs: sync triggers, anchor refresh, position watch. */
export function start(): void {
  stop()
  window.addEventListener('online', onOnline)
  window.addEventListener('offline', onOffline)
  document.addEventListener('visibilitychange', onVisible)
  timers.push(window.setInterval(() => void sync(), SYNC_EVERY_MS))
  timers.push(window.setInterval(() => void anchor(), ANCHOR_EVERY_MS))
  watchPosition()
  void loadFences()
  void (async () => {
    await refreshCounts()
    await loadToday()
    if (!state.deviceId) await enrol()
    await anchor()
    await sync()
  })()
}

export function stop(): void {
  window.removeEventListener('online', onOnline)
  window.removeEventListener('offline', onOffline)
  document.removeEventListener('visibilitychange', onVisible)
  timers.forEach((t) => window.clearInterval(t))
  timers = []
  if (watchId !== null) navigator.geolocation?.clearWatch(watchId)
  watchId = null
}

function onOnline(): void {
  state.online = true
  void (async () => {
    await anchor()
    await sync()
  })()
}

function onOffline(): void {
  state.online = false
}

function onVisible(): void {
  if (document.visibilityState !== 'visible') return
  // Back from the background, perhaps from sleep: a fresh anchor before the next punch.
  void (async () => {
    await anchor()
    await sync()
  })()
}

async function anchor(): Promise<void> {
  const uid = userId()
  if (!uid || !navigator.onLine) return
  try {
    await refreshAnchor(uid, () => ok(api.GET('/api/v1/time')))
    state.anchored = true
    state.online = true
    await refreshCounts()
    if (state.queue.pending === 0) markSynced() // the server answered and nothing waits
  } catch (e) {
    if (e instanceof NetworkError) state.online = false
  }
}

/** Ask for the position again, e.g. after the person allowed location in the browser settings. */
export function retryLocation(): void {
  if (watchId !== null) navigator.geolocation?.clearWatch(watchId)
  watchId = null
  state.positionError = null
  watchPosition()
}

function watchPosition(): void {
  if (!('geolocation' in navigator)) {
    state.positionError = 'unsupported'
    return
  }
  watchId = navigator.geolocation.watchPosition(
    (p) => {
      state.position = {
        lat: p.coords.latitude,
        lon: p.coords.longitude,
        accuracy_m: p.coords.accuracy,
        altitude_m: p.coords.altitude,
        speed_mps: p.coords.speed,
        bearing_deg: p.coords.heading,
        at: p.timestamp,
      }
      state.positionError = null
    },
    (err) => {
      state.positionError = err.code === err.PERMISSION_DENIED ? 'denied' : 'unavailable'
    },
    { enableHighAccuracy: true, maximumAge: 5_000, timeout: 30_000 },
  )
}

// --- outbox ----------------------------------------------------------------------------------

async function sendBatch(punches: PunchIn[]): Promise<BatchItemOut[]> {
  const answer = await ok(api.POST('/api/v1/punches/batch', { body: { punches } }))
  return answer.results
}

const preparePhoto = photoPreparer(
  (photo) => uploadPhoto(photo, 'visit.jpg'),
  async (uid) => {
    const key = await (await database()).get('keys', uid)
    if (!key) throw new Error('no device key')
    return key.pair.privateKey
  },
  (error) => error instanceof ApiError && [413, 415, 422].includes(error.status),
)

export async function refreshCounts(): Promise<void> {
  const uid = userId()
  if (!uid) return
  state.queue = await (await box()).counts(uid)
}

export async function outboxItems(): Promise<OutboxItem[]> {
  const uid = userId()
  return uid ? (await box()).items(uid) : []
}

export async function dismiss(seq: number): Promise<void> {
  await (await box()).dismiss(seq)
  await refreshCounts()
}

/** Work that follows each sync (visit records wait for their punches): visits.ts. */
export const afterSync: (() => Promise<void>)[] = []

async function runAfterSync(): Promise<void> {
  for (const hook of afterSync) await hook()
}

/** Send what is queued (a no-op when nothing is or a sync is already running), then what follows. */
export async function sync(): Promise<void> {
  try {
    await syncPunches()
  } finally {
    await runAfterSync()
  }
}

/** The punch outbox alone. */
export async function punchState(clientId: string): Promise<{ state: 'pending' | 'failed' | 'rejected' | 'sent' | 'unknown'; punch_id: string | null }> {
  const ob = await box()
  const sent = await ob.answer(clientId)
  if (sent) return { state: 'sent', punch_id: sent.punch.id }
  const uid = userId()
  const item = uid ? (await ob.items(uid)).find((i) => i.client_id === clientId) : undefined
  if (item) return { state: item.state, punch_id: null }
  const row = state.today.find((r) => r.client_id === clientId)
  return row?.punch ? { state: 'sent', punch_id: row.punch.id } : { state: 'unknown', punch_id: null }
}

async function syncPunches(): Promise<void> {
  const uid = userId()
  if (!uid) return
  const ob = await box()
  if ((await ob.pending(uid)).length === 0) {
    await refreshCounts()
    return
  }
  state.syncing = true
  try {
    const report = await ob.sync(uid, sendBatch, preparePhoto)
    if (report.error) {
      state.syncError = report.error instanceof Error ? report.error.message : String(report.error)
      if (report.error instanceof NetworkError) state.online = false
    } else {
      state.syncError = null
      state.online = true
      markSynced()
    }
    for (const record of report.answered) answered(record)
    if (state.verdict?.state === 'queued') {
      const items = await ob.items(uid)
      const mine = items.find((i) => i.client_id === state.verdict?.client_id)
      if (mine && mine.state !== 'pending') {
        state.verdict = { ...state.verdict, state: mine.state, problem: mine.problem ?? null }
      }
    }
  } finally {
    state.syncing = false
    await refreshCounts()
  }
}

function markSynced(): void {
  state.lastSyncAt = new Date().toISOString()
  localStorage.setItem('fieldpunch.lastSync', state.lastSyncAt)
}

function answered(record: SentRecord): void {
  if (state.verdict?.client_id === record.client_id) {
    state.verdict = { ...state.verdict, state: 'answered', punch: record.punch }
  }
  const row = state.today.find((t) => t.client_id === record.client_id)
  if (row) {
    row.queued = false
    row.punch = record.punch
  }
}

/** One tap: capture → sign → store; then send at once when online. */
export async function punch(kind: PunchKind, extras: PunchExtras = {}): Promise<Verdict> {
  const uid = userId()
  if (!uid) throw new Error('signed out')
  if (!state.position) throw new Error('no position yet')
  const record = await (await database()).get('keys', uid)
  if (!record?.device_id) {
    await enrol()
  }
  const key = (await (await database()).get('keys', uid))!
  if (!key?.device_id) throw new Error(state.enrolError ?? 'device not enrolled')
  const body = await capture(
    await box(),
    uid,
    kind,
    state.position,
    { device_id: key.device_id, privateKey: key.pair.privateKey },
    extras,
    { online: navigator.onLine },
  )
  const verdict: Verdict = {
    client_id: body.client_id,
    kind,
    captured_at: body.captured_at,
    state: 'queued',
    punch: null,
    problem: null,
  }
  state.verdict = verdict
  state.today.push({
    client_id: body.client_id,
    kind,
    captured_at: body.captured_at,
    customer_id: body.customer_id ?? null,
    visit_id: body.visit_id ?? null,
    queued: true,
    punch: null,
  })
  await refreshCounts()
  if (navigator.onLine) await sync()
  return state.verdict!
}

// --- today, places, customers ------------------------------------------------------------------

function startOfToday(): Date {
  const d = new Date()
  d.setHours(0, 0, 0, 0)
  return d
}

/** Today's punches: the server's (when reachable) and the still-queued ones. */
export async function loadToday(): Promise<void> {
  const uid = userId()
  if (!uid) return
  const since = startOfToday()
  const rows: TodayRow[] = []
  const seen = new Set<string>()
  try {
    const page = await ok(
      api.GET('/api/v1/punches', {
        params: { query: { user_id: uid, from: since.toISOString(), limit: 200 } },
      }),
    )
    await cachePut(await database(), `today:${uid}`, page.items)
    for (const p of page.items) addRow(rows, seen, p)
  } catch {
    const cached = await cacheGet<PunchOut[]>(await database(), `today:${uid}`)
    for (const p of cached?.value ?? []) if (new Date(p.captured_at) >= since) addRow(rows, seen, p)
    for (const s of await (await box()).sent(uid)) {
      if (new Date(s.captured_at) >= since) addRow(rows, seen, s.punch)
    }
  }
  for (const item of await (await box()).items(uid)) {
    if (seen.has(item.client_id)) continue
    seen.add(item.client_id)
    rows.push({
      client_id: item.client_id,
      kind: item.body.kind,
      captured_at: item.body.captured_at,
      customer_id: item.body.customer_id ?? null,
      visit_id: item.body.visit_id ?? null,
      queued: true,
      punch: null,
    })
  }
  rows.sort((a, b) => a.captured_at.localeCompare(b.captured_at))
  state.today = rows
}

function addRow(rows: TodayRow[], seen: Set<string>, p: PunchOut): void {
  if (seen.has(p.client_id)) return
  seen.add(p.client_id)
  rows.push({
    client_id: p.client_id,
    kind: p.kind,
    captured_at: p.captured_at,
    customer_id: p.customer?.id ?? null,
    visit_id: p.visit_id ?? null,
    queued: false,
    punch: p,
  })
}

/** Check in or out at a customer, by the last visit punch there today. */
export function nextVisitKind(customerId: string): PunchKind {
  return lastVisitPunch(customerId)?.kind === 'visit_in' ? 'visit_out' : 'visit_in'
}

/** The last visit punch at a customer today (the check-in a check-out closes). */
export function lastVisitPunch(customerId: string): TodayRow | null {
  const last = [...state.today]
    .reverse()
    .find(
      (r) =>
        (r.kind === 'visit_in' || r.kind === 'visit_out') &&
        r.customer_id === customerId,
    )
  return last ?? null
}

function placeFence(p: PlaceOut): Fence {
  return {
    id: p.id,
    name: p.name,
    kind: 'place',
    lat: p.location.lat,
    lon: p.location.lon,
    radius_m: p.radius_m,
    polygon: p.polygon as Fence['polygon'],
  }
}

function customerFence(c: CustomerOut): (Fence & { customer: CustomerOut }) | null {
  if (!c.location) return null
  return {
    id: c.id,
    name: c.name,
    kind: 'customer',
    lat: c.location.lat,
    lon: c.location.lon,
    radius_m: c.radius_m,
    polygon: c.polygon as Fence['polygon'],
    customer: c,
  }
}

async function allPages<T>(
  fetchPage: (cursor: string | undefined) => Promise<{ items: T[]; next_cursor?: string | null }>,
  max = 2000,
): Promise<T[]> {
  const out: T[] = []
  let cursor: string | undefined
  do {
    const page = await fetchPage(cursor)
    out.push(...page.items)
    cursor = page.next_cursor ?? undefined
  } while (cursor && out.length < max)
  return out
}

/** Places and customers for the readout, cached for offline use. */
export async function loadFences(): Promise<void> {
  const d = await database()
  try {
    const [places, customers] = await Promise.all([
      allPages((cursor) =>
        ok(api.GET('/api/v1/places', { params: { query: { limit: 500, cursor } } })),
      ),
      allPages((cursor) =>
        ok(api.GET('/api/v1/customers', { params: { query: { limit: 500, cursor } } })),
      ),
    ])
    await cachePut(d, 'places', places)
    await cachePut(d, 'customers', customers)
    setFences(places, customers)
  } catch {
    const places = (await cacheGet<PlaceOut[]>(d, 'places'))?.value ?? []
    const customers = (await cacheGet<CustomerOut[]>(d, 'customers'))?.value ?? []
    setFences(places, customers)
  }
}

function setFences(places: PlaceOut[], customers: CustomerOut[]): void {
  state.fencesLoaded = true
  state.places = places.map(placeFence)
  state.customers = customers
    .filter((c) => c.status !== 'deleted')
    .map(customerFence)
    .filter((c): c is Fence & { customer: CustomerOut } => c !== null)
}

export function anchorAgeMs(): number | null {
  const a = currentAnchor()
  return a ? performance.now() - a.fetched_at : null
}
