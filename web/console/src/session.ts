/**
 * Who is signed in to the console. Tokens are the field app's (web/src/api/client.ts: the same
 * storage, refresh and rotation lock), so one sign-in serves both apps on the same origin.
 */
import { reactive } from 'vue'
import { ApiError, api, loadTokens, login, logout, ok, whenSignedOut } from '../../src/api/client'
import type { MeOut } from '../../src/api/types'

export const session = reactive({
  me: null as MeOut | null,
  /** Set when the stored tokens were refused: the router shows the sign-in page. */
  signedOut: false,
})

/** Managers and admins use the console; staff are sent to the field app. */
export function isManager(me: MeOut | null): boolean {
  return me?.role === 'admin' || me?.role === 'manager'
}

export function can(scope: string): boolean {
  return !!session.me?.scopes?.includes(scope as MeOut['scopes'][number])
}

whenSignedOut(() => {
  session.me = null
  session.signedOut = true
})

/** The signed-in person, read once per page load (null: nobody, or tokens refused). */
export async function loadMe(): Promise<MeOut | null> {
  if (session.me) return session.me
  if (!loadTokens()) return null
  try {
    session.me = await ok(api.GET('/api/v1/me'))
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return null
    throw e
  }
  return session.me
}

export async function signIn(account: string, password: string, orgId?: string): Promise<MeOut> {
  await login(account, password, orgId)
  session.me = null
  session.signedOut = false
  const me = await loadMe()
  if (!me) throw new ApiError(401, 'signed out')
  return me
}

export async function signOut(): Promise<void> {
  await logout()
  session.me = null
}
