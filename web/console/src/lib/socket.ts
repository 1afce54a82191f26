/**
 * The live feed's connection (`WS /api/v1/live`): authenticate with a first message (no token in
 * the URL, where proxies log it), resume with the highest `seq` seen, and come back after a drop
 * with a growing pause; a refused or expired token is refreshed first. The WebSocket class, the
 * token and the timers are given, so the reconnecting logic is tested without a server.
 */
export type LinkState = 'connecting' | 'live' | 'offline' | 'refused'

interface SocketLike {
  onopen: ((ev: unknown) => void) | null
  onmessage: ((ev: { data: unknown }) => void) | null
  onclose: ((ev: { code: number; reason: string }) => void) | null
  send(data: string): void
  close(code?: number): void
}

export interface LinkDeps {
  url: string
  open: (url: string) => SocketLike
  /** A fresh access token (refreshed when due); null: signed out, stop. */
  token: (renew: boolean) => Promise<string | null>
  lastSeq: () => number | null
  onMessage: (message: unknown) => void
  onState: (state: LinkState, reason?: string) => void
  later?: (fn: () => void, ms: number) => unknown
  cancel?: (handle: unknown) => void
}

const FATAL = new Set([4400, 4403]) // the client is wrong or not allowed: retrying cannot help
const MAX_PAUSE_MS = 15_000

/** Pause before reconnect attempt `n` (0-based): 0.5 s doubling to 15 s. */
export function pauseMs(attempt: number): number {
  return Math.min(MAX_PAUSE_MS, 500 * 2 ** attempt)
}

export class LiveLink {
  private socket: SocketLike | null = null
  private attempts = 0
  private timer: unknown = null
  private stopped = false
  private renew = false
  private readonly later: (fn: () => void, ms: number) => unknown
  private readonly cancel: (handle: unknown) => void

  constructor(private readonly deps: LinkDeps) {
    this.later = deps.later ?? ((fn, ms) => setTimeout(fn, ms))
    this.cancel = deps.cancel ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>))
  }

  start(): void {
    this.stopped = false
    void this.connect()
  }

  stop(): void {
    this.stopped = true
    if (this.timer !== null) this.cancel(this.timer)
    this.timer = null
    const s = this.socket
    this.socket = null
    s?.close(1000)
  }

  /** Reconnect now (the browser came back online): skips the pause. */
  retryNow(): void {
    if (this.stopped || this.socket) return
    if (this.timer !== null) this.cancel(this.timer)
    this.timer = null
    void this.connect()
  }

  private async connect(): Promise<void> {
    this.deps.onState('connecting')
    let token: string | null
    try {
      token = await this.deps.token(this.renew)
    } catch {
      this.schedule()
      return
    }
    this.renew = false
    if (this.stopped) return
    if (!token) {
      this.deps.onState('refused', 'signed out')
      return
    }
    const s = this.deps.open(this.deps.url)
    this.socket = s
    s.onopen = () => {
      const last = this.deps.lastSeq()
      s.send(JSON.stringify(last === null ? { type: 'auth', token } : { type: 'auth', token, last_event_id: last }))
    }
    s.onmessage = (ev) => {
      let message: unknown
      try {
        message = JSON.parse(String(ev.data))
      } catch {
        return
      }
      if ((message as { type?: string })?.type === 'snapshot') {
        this.attempts = 0
        this.deps.onState('live')
      }
      this.deps.onMessage(message)
    }
    s.onclose = (ev) => {
      if (this.socket !== s) return
      this.socket = null
      if (this.stopped) return
      if (FATAL.has(ev.code)) {
        this.deps.onState('refused', ev.reason)
        return
      }
      this.renew = ev.code === 4401 // an expired or revoked token: refresh before trying again
      this.schedule()
    }
  }

  private schedule(): void {
    if (this.stopped) return
    this.deps.onState('offline')
    const wait = pauseMs(this.attempts++)
    this.timer = this.later(() => {
      this.timer = null
      void this.connect()
    }, wait)
  }
}
