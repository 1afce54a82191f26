/** The Live page's connection and state: one live link per visit of the page. */
import { reactive } from 'vue'
import { loadTokens, refresh } from '../../../../src/api/client'
import { apply, emptyState, type LiveState } from '../../lib/feed'
import { LiveLink, type LinkDeps, type LinkState } from '../../lib/socket'

const SKEW_MS = 60_000

/** The access token, refreshed when it is about to lapse or the server refused it. */
async function token(renew: boolean): Promise<string | null> {
  const t = loadTokens()
  if (!t) return null
  if (renew || t.expires_at - SKEW_MS < Date.now()) return (await refresh())?.access_token ?? null
  return t.access_token
}

export function openLive(): { state: LiveState; link: { state: LinkState; reason: string }; stop: () => void } {
  const state = reactive(emptyState()) as LiveState
  const link = reactive({ state: 'connecting' as LinkState, reason: '' })
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:'
  const live = new LiveLink({
    url: `${proto}//${location.host}/api/v1/live`,
    open: (url) => new WebSocket(url) as unknown as ReturnType<LinkDeps['open']>,
    token,
    lastSeq: () => state.lastSeq,
    onMessage: (m) => apply(state, m),
    onState: (s, reason) => {
      link.state = s
      link.reason = reason ?? ''
    },
  })
  const online = (): void => live.retryNow()
  window.addEventListener('online', online)
  live.start()
  return {
    state,
    link,
    stop: () => {
      window.removeEventListener('online', online)
      live.stop()
    },
  }
}
