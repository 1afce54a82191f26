/**
 * The typed API client (openapi-fetch over the generated `paths`), with the bearer token added
 * and one transparent refresh on 401. Tokens live in localStorage: the refresh token lets the
 * app keep syncing after the access token expires, including after days offline.
 */
import createClient from 'openapi-fetch'
import type { paths } from './schema'
import type { TokenOut } from './types'

const TOKENS = 'fieldpunch.tokens'
const SKEW_MS = 60_000

export interface Tokens {
  access_token: string
  refresh_token: string
  expires_at: number
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly body: unknown = null,
    /** The Retry-After header of a 429 or 503, as sent (seconds or an HTTP date). */
    readonly retryAfter: string | null = null,
  ) {
    super(detail || `HTTP ${status}`)
  }
}

/** No answer at all (offline, DNS, connection reset): retry later. */
export class NetworkError extends Error {}

export function loadTokens(): Tokens | null {
  try {
    const raw = localStorage.getItem(TOKENS)
    return raw ? (JSON.parse(raw) as Tokens) : null
  } catch {
    return null
  }
}

export function saveTokens(t: TokenOut | null): Tokens | null {
  if (!t) {
    localStorage.removeItem(TOKENS)
    return null
  }
  const tokens = {
    access_token: t.access_token,
    refresh_token: t.refresh_token,
    expires_at: Date.now() + t.expires_in * 1000,
  }
  localStorage.setItem(TOKENS, JSON.stringify(tokens))
  return tokens
}

async function problemOf(r: Response): Promise<ApiError> {
  let body: unknown = null
  let detail = r.statusText
  try {
    body = await r.json()
    const b = body as { detail?: unknown }
    if (typeof b.detail === 'string') detail = b.detail
    else if (b.detail != null) detail = JSON.stringify(b.detail)
  } catch {
    /* not JSON */
  }
  return new ApiError(r.status, detail, body, r.headers.get('Retry-After'))
}

async function rawFetch(input: RequestInfo, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(input, init)
  } catch (e) {
    throw new NetworkError(e instanceof Error ? e.message : String(e))
  }
}

export async function login(email: string, password: string, orgId?: string): Promise<Tokens> {
  const form = new URLSearchParams({ username: email, password, grant_type: 'password' })
  if (orgId) form.set('org_id', orgId)
  const r = await rawFetch('/api/v1/auth/token', { method: 'POST', body: form })
  if (!r.ok) throw await problemOf(r)
  return saveTokens((await r.json()) as TokenOut)!
}

let refreshing: Promise<Tokens | null> | null = null

/** Run `work` holding the app's refresh lock, shared by every tab (Web Locks) where there is one. */
async function exclusive<T>(work: () => Promise<T>): Promise<T> {
  const locks = typeof navigator === 'undefined' ? undefined : navigator.locks
  return locks ? await locks.request('fieldpunch.refresh', work) : work()
}

/**
 * One refresh at a time; a refused refresh token signs the person out (null).
 *
 * The server rotates refresh tokens: each answer carries a new one and the old one is used up.
 * Sending a used one again revokes the whole sign-in (it looks like a stolen copy), so two tabs
 * must never refresh with the same token: the lock serialises them across tabs, and a tab that
 * finds the token changed while it waited takes the other tab's result instead of refreshing.
 */
export function refresh(): Promise<Tokens | null> {
  const seen = loadTokens()
  refreshing ??= exclusive(async () => {
    const current = loadTokens()
    if (!current) return null
    if (seen && current.refresh_token !== seen.refresh_token) return current
    const r = await rawFetch('/api/v1/auth/refresh', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ refresh_token: current.refresh_token }),
    })
    if (r.status === 401 || r.status === 422) {
      saveTokens(null)
      onSignedOut()
      return null
    }
    if (!r.ok) throw await problemOf(r)
    return saveTokens((await r.json()) as TokenOut)
  }).finally(() => {
    refreshing = null
  })
  return refreshing
}

/**
 * Sign out on the server too: revoke this sign-in's refresh token. Best effort: offline, the
 * tokens are forgotten here all the same (the access token lapses within `expires_in`).
 */
export async function logout(): Promise<void> {
  const current = loadTokens()
  saveTokens(null)
  if (!current) return
  try {
    await rawFetch('/api/v1/auth/logout', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ refresh_token: current.refresh_token }),
    })
  } catch {
    /* offline: nothing more to do */
  }
}

let onSignedOut: () => void = () => {}
export function whenSignedOut(cb: () => void): void {
  onSignedOut = cb
}

async function accessToken(): Promise<string | null> {
  const t = loadTokens()
  if (!t) return null
  if (t.expires_at - SKEW_MS < Date.now() && navigator.onLine !== false) {
    try {
      return (await refresh())?.access_token ?? null
    } catch {
      return t.access_token
    }
  }
  return t.access_token
}

/** fetch with the bearer token; on 401 refresh once and replay the request. */
export async function authFetch(input: Request): Promise<Response> {
  const replay = input.clone()
  const token = await accessToken()
  if (token) input.headers.set('Authorization', `Bearer ${token}`)
  const first = await rawFetch(input)
  if (first.status !== 401 || !loadTokens()) return first
  const renewed = await refresh()
  if (!renewed) return first
  replay.headers.set('Authorization', `Bearer ${renewed.access_token}`)
  return rawFetch(replay)
}

export const api = createClient<paths>({ baseUrl: '', fetch: authFetch })

/** Unwrap an openapi-fetch answer: the data, or an ApiError with the problem's detail. */
export async function ok<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await call
  if (error !== undefined || !response.ok) {
    const e = error as { detail?: unknown } | undefined
    const detail = typeof e?.detail === 'string' ? e.detail : response.statusText
    throw new ApiError(response.status, detail, error ?? null, response.headers.get('Retry-After'))
  }
  return data as T
}

/** Upload a photo (multipart); the answer names it for the punch's `photo_id`. */
export async function uploadPhoto(file: Blob, name = 'photo.jpg'): Promise<{ id: string }> {
  const form = new FormData()
  form.append('file', file, name)
  const r = await authFetch(new Request('/api/v1/photos', { method: 'POST', body: form }))
  if (!r.ok) throw await problemOf(r)
  return (await r.json()) as { id: string }
}

export async function photoObjectUrl(id: string): Promise<string> {
  const r = await authFetch(new Request(`/api/v1/photos/${encodeURIComponent(id)}/content`))
  if (!r.ok) throw await problemOf(r)
  return URL.createObjectURL(await r.blob())
}
