import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { loadTokens, logout, refresh, saveTokens, whenSignedOut } from '../src/api/client'

/** localStorage for node: one Map, as every tab of one origin shares it. */
class MemoryStorage {
  private items = new Map<string, string>()
  getItem(k: string): string | null {
    return this.items.get(k) ?? null
  }
  setItem(k: string, v: string): void {
    this.items.set(k, v)
  }
  removeItem(k: string): void {
    this.items.delete(k)
  }
}

type Call = { url: string; body: Record<string, unknown> }
let calls: Call[]
let next = 0

/** The server: rotates refresh tokens, and answers 401 for a used one (as rotation does). */
function server(): (input: RequestInfo, init?: RequestInit) => Promise<Response> {
  const used = new Set<string>()
  return async (input, init) => {
    const url = String(input)
    const body = JSON.parse(String(init?.body ?? '{}')) as Record<string, unknown>
    calls.push({ url, body })
    if (url.endsWith('/auth/logout')) return new Response(null, { status: 204 })
    const token = String(body.refresh_token)
    if (used.has(token)) return new Response('{"status":401}', { status: 401 })
    used.add(token)
    next += 1
    return Response.json({
      access_token: `access-${next}`,
      refresh_token: `refresh-${next}`,
      token_type: 'bearer',
      expires_in: 3600,
    })
  }
}

function signIn(): void {
  saveTokens({ access_token: 'access-0', refresh_token: 'refresh-0', token_type: 'bearer', expires_in: 3600 })
}

beforeEach(() => {
  calls = []
  vi.stubGlobal('localStorage', new MemoryStorage())
  vi.stubGlobal('fetch', server())
})

afterEach(() => {
  vi.unstubAllGlobals()
})

describe('refresh with rotation', () => {
  it('keeps the new refresh token and sends it next time', async () => {
    signIn()
    expect((await refresh())?.access_token).toBe(`access-${next}`)
    const rotated = loadTokens()!.refresh_token
    expect(rotated).not.toBe('refresh-0')
    await refresh()
    expect(calls.map((c) => c.body.refresh_token)).toEqual(['refresh-0', rotated])
  })

  it('sends one refresh for many callers at once', async () => {
    signIn()
    const answers = await Promise.all([refresh(), refresh(), refresh()])
    expect(calls).toHaveLength(1)
    expect(new Set(answers.map((a) => a?.refresh_token)).size).toBe(1)
  })

  it('takes another tab’s fresh tokens instead of reusing the old refresh token', async () => {
    signIn()
    // A lock manager that lets "another tab" rotate the tokens while this one waits.
    vi.stubGlobal('navigator', {
      locks: {
        request: async <T>(_name: string, work: () => Promise<T>): Promise<T> => {
          saveTokens({ access_token: 'other-tab', refresh_token: 'other-tab-refresh', token_type: 'bearer', expires_in: 3600 })
          return work()
        },
      },
    })
    const got = await refresh()
    expect(got?.access_token).toBe('other-tab')
    expect(calls).toHaveLength(0)
  })

  it('signs out when the refresh token is refused', async () => {
    signIn()
    await refresh()
    // Someone put the used token back (as a thief would present it): the server says 401.
    saveTokens({ access_token: 'x', refresh_token: 'refresh-0', token_type: 'bearer', expires_in: 3600 })
    const signedOut = vi.fn()
    whenSignedOut(signedOut)
    expect(await refresh()).toBeNull()
    expect(loadTokens()).toBeNull()
    expect(signedOut).toHaveBeenCalledOnce()
  })
})

describe('logout', () => {
  it('revokes the refresh token on the server and forgets the tokens', async () => {
    signIn()
    await logout()
    expect(calls).toEqual([{ url: '/api/v1/auth/logout', body: { refresh_token: 'refresh-0' } }])
    expect(loadTokens()).toBeNull()
  })

  it('still forgets the tokens offline', async () => {
    signIn()
    vi.stubGlobal('fetch', () => Promise.reject(new TypeError('Failed to fetch')))
    await logout()
    expect(loadTokens()).toBeNull()
  })
})
