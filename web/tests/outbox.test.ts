import 'fake-indexeddb/auto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { BatchItemOut, PunchIn, PunchOut } from '../src/api/types'
import { openDb, type Db } from '../src/lib/db'
import { deviceKey, ensureEnrolled } from '../src/lib/device'
import { Outbox } from '../src/lib/outbox'
import { capture, photoPreparer, type Position } from '../src/lib/punch'
import { verifyCanonical } from '../src/lib/signing'
import { clearAnchor, proofNow, refreshAnchor } from '../src/lib/timeproof'

const USER = 'usr_A'
const HERE: Position = { lat: 31.2397, lon: 121.4998, accuracy_m: 12.3456, at: Date.now() }
let db: Db
let dbName: string
let n = 0

function punchOut(body: PunchIn): PunchOut {
  return {
    id: `pun_${body.client_id}`,
    client_id: body.client_id,
    user_id: USER,
    kind: body.kind,
    status: 'accepted',
    source: 'app',
    captured_at: body.captured_at,
    received_at: body.captured_at,
    trusted_time: body.captured_at,
    time_source: 'proof',
    location: { lat: body.location.lat, lon: body.location.lon, crs: 'wgs84', accuracy_m: 12, sources: ['fused'], rejected: [] },
    place: null,
    customer: null,
    visit_id: null,
    note: '',
    photo_id: null,
    offline: !!body.offline,
    device_id: body.device_id ?? null,
    signature_ok: true,
    anomalies: [],
    ledger: { seq: 1, hash: 'h' },
  }
}

/** A fake server: idempotent by client_id, like the real one; records every request. */
class FakeServer {
  stored = new Map<string, string>()
  requests: PunchIn[][] = []
  down = false
  loseAnswers = false

  send = async (punches: PunchIn[]): Promise<BatchItemOut[]> => {
    this.requests.push(punches)
    if (this.down) throw new TypeError('Failed to fetch')
    const results = punches.map((p, index): BatchItemOut => {
      const content = JSON.stringify(p)
      const existing = this.stored.get(p.client_id)
      if (p.note === 'invalid') return { index, status: 422, punch: null, problem: { detail: 'note: bad' } }
      if (existing !== undefined && existing !== content) {
        return { index, status: 409, punch: null, problem: { detail: 'client_id already used' } }
      }
      this.stored.set(p.client_id, content)
      return { index, status: existing ? 200 : 201, punch: punchOut(p), problem: null }
    })
    if (this.loseAnswers) throw new TypeError('connection reset after the server committed')
    return results
  }
}

async function signer() {
  const key = await ensureEnrolled(db, USER, async () => ({ id: 'dev_1' }))
  return { device_id: key.device_id!, privateKey: key.pair.privateKey }
}

beforeEach(async () => {
  dbName = `test-${++n}`
  db = await openDb(dbName)
  clearAnchor()
})

afterEach(() => db.close())

describe('device key', () => {
  it('is made once per person, non-extractable, and enrolled once', async () => {
    let enrolments = 0
    const enrol = async () => ({ id: `dev_${++enrolments}` })
    const first = await ensureEnrolled(db, USER, enrol)
    const again = await ensureEnrolled(db, USER, enrol)
    expect(enrolments).toBe(1)
    expect(again.device_id).toBe('dev_1')
    expect(again.public_key).toBe(first.public_key)
    expect(again.pair.privateKey.extractable).toBe(false)
    const other = await deviceKey(db, 'usr_B')
    expect(other.public_key).not.toBe(first.public_key)
    expect(other.device_id).toBeNull()
  })
})

describe('outbox', () => {
  it('stores a signed punch before any network, then sends it and removes it on 201', async () => {
    const outbox = new Outbox(db)
    const server = new FakeServer()
    const s = await signer()
    const body = await capture(outbox, USER, 'clock_in', HERE, s)
    const stored = await outbox.pending(USER)
    expect(stored.map((i) => i.client_id)).toEqual([body.client_id])
    const key = (await db.get('keys', USER))!
    expect(await verifyCanonical(key.public_key, body, body.signature!)).toBe(true)
    expect(body.device_id).toBe('dev_1')
    expect(body.location.accuracy_m).toBe(12.3)

    const report = await outbox.sync(USER, server.send)
    expect(report).toMatchObject({ sent: 1, failed: 0, rejected: 0, remaining: 0, error: null })
    expect(await outbox.pending(USER)).toEqual([])
    expect((await outbox.answer(body.client_id))?.http_status).toBe(201)
  })

  it('keeps everything while offline and sends in capture order when back', async () => {
    const outbox = new Outbox(db)
    const server = new FakeServer()
    const s = await signer()
    server.down = true
    const kinds = ['clock_in', 'clock_out', 'clock_in'] as const
    const made: PunchIn[] = []
    for (const kind of kinds) made.push(await capture(outbox, USER, kind, HERE, s, {}, { online: false }))
    const down = await outbox.sync(USER, server.send)
    expect(down.error).toBeInstanceOf(TypeError)
    expect(down.remaining).toBe(3)
    expect(made.every((p) => p.offline === true)).toBe(true)

    server.down = false
    const up = await outbox.sync(USER, server.send)
    expect(up).toMatchObject({ sent: 3, remaining: 0, error: null })
    expect(server.requests.at(-1)!.map((p) => p.client_id)).toEqual(made.map((p) => p.client_id))
    expect(server.stored.size).toBe(3)
    // Original capture times travel unchanged.
    expect([...server.stored.values()].map((v) => JSON.parse(v).captured_at)).toEqual(
      made.map((p) => p.captured_at),
    )
  })

  it('never duplicates when an answer is lost (tab closed mid-send): the resend is a replay', async () => {
    const outbox = new Outbox(db)
    const server = new FakeServer()
    const s = await signer()
    const body = await capture(outbox, USER, 'clock_in', HERE, s)
    server.loseAnswers = true
    const lost = await outbox.sync(USER, server.send)
    expect(lost.remaining).toBe(1) // the server committed, but we never heard: keep it
    expect(server.stored.size).toBe(1)

    // A new page (new Outbox on the same database) sends it again.
    server.loseAnswers = false
    const reopened = new Outbox(db)
    const again = await reopened.sync(USER, server.send)
    expect(again).toMatchObject({ sent: 1, remaining: 0 })
    expect((await reopened.answer(body.client_id))?.http_status).toBe(200)
    expect(server.stored.size).toBe(1)
    expect(server.requests.flat().map((p) => p.client_id)).toEqual([body.client_id, body.client_id])
  })

  it('marks 409 as failed and 422 as rejected, keeps them visible, and goes on with the rest', async () => {
    const outbox = new Outbox(db)
    const server = new FakeServer()
    const s = await signer()
    const good = await capture(outbox, USER, 'clock_in', HERE, s)
    const conflicting = await capture(outbox, USER, 'clock_out', HERE, s)
    await capture(outbox, USER, 'clock_in', HERE, s, { note: 'invalid' })
    server.stored.set(conflicting.client_id, '{"other":"content"}')

    const report = await outbox.sync(USER, server.send)
    expect(report).toMatchObject({ sent: 3, failed: 1, rejected: 1, remaining: 0 })
    const left = await outbox.items(USER)
    expect(left.map((i) => [i.state, i.problem])).toEqual([
      ['failed', 'client_id already used'],
      ['rejected', 'note: bad'],
    ])
    expect(await outbox.counts(USER)).toEqual({ pending: 0, failed: 1, rejected: 1 })
    expect((await outbox.answer(good.client_id))?.punch.status).toBe('accepted')
    // Refused punches are not resent; the person can dismiss them once seen.
    await outbox.sync(USER, server.send)
    expect(server.requests.length).toBe(1)
    await outbox.dismiss(left[0].seq!)
    expect((await outbox.items(USER)).length).toBe(1)
  })

  it('runs one sync at a time and keeps a 5xx answer for a retry', async () => {
    const outbox = new Outbox(db)
    const s = await signer()
    await capture(outbox, USER, 'clock_in', HERE, s)
    let calls = 0
    let release: () => void = () => {}
    const gate = new Promise<void>((r) => (release = r))
    const slow = async (punches: PunchIn[]): Promise<BatchItemOut[]> => {
      calls++
      await gate
      return punches.map((_p, index) => ({ index, status: 503, punch: null, problem: null }))
    }
    const a = outbox.sync(USER, slow)
    const b = outbox.sync(USER, slow)
    release()
    const [ra, rb] = await Promise.all([a, b])
    expect(calls).toBeGreaterThanOrEqual(1)
    expect(ra).toBe(rb)
    expect((await outbox.pending(USER)).length).toBe(1)
  })

  it('keeps each person\'s punches apart', async () => {
    const outbox = new Outbox(db)
    const s = await signer()
    await capture(outbox, USER, 'clock_in', HERE, s)
    const server = new FakeServer()
    const report = await outbox.sync('usr_B', server.send)
    expect(report.sent).toBe(0)
    expect(server.requests.length).toBe(0)
    expect((await outbox.pending(USER)).length).toBe(1)
  })
})

describe('photos in the outbox', () => {
  class Refused extends Error {}
  function preparer(upload: (photo: Blob) => Promise<{ id: string }>) {
    return photoPreparer(
      upload,
      async (uid) => (await db.get('keys', uid))!.pair.privateKey,
      (e) => e instanceof Refused,
    )
  }

  it('keeps the photo with the unsigned punch, uploads it at sync, then signs and sends', async () => {
    const outbox = new Outbox(db)
    const server = new FakeServer()
    const s = await signer()
    const photo = new Blob([new Uint8Array([0xff, 0xd8, 0xff, 0xe0])], { type: 'image/jpeg' })
    const draft = await capture(outbox, USER, 'visit_in', HERE, s, { customer_id: 'cus_1', note: 'n', photo }, { online: false })
    expect(draft.signature).toBeUndefined()
    const [stored] = await outbox.pending(USER)
    expect(stored.photo?.size).toBe(4)

    const uploads: Blob[] = []
    const report = await outbox.sync(USER, server.send, preparer(async (p) => {
      uploads.push(p)
      return { id: 'pho_1' }
    }))
    expect(report).toMatchObject({ sent: 1, remaining: 0, error: null })
    expect(uploads.length).toBe(1)
    const sent = JSON.parse(server.stored.get(draft.client_id)!)
    expect(sent.photo_id).toBe('pho_1')
    expect(sent.captured_at).toBe(draft.captured_at)
    const key = (await db.get('keys', USER))!
    expect(await verifyCanonical(key.public_key, sent, sent.signature)).toBe(true)
  })

  it('holds the queue in order while a photo cannot go up, and sends a refused photo\'s punch without it', async () => {
    const outbox = new Outbox(db)
    const server = new FakeServer()
    const s = await signer()
    const photo = new Blob(['not really a photo'])
    const first = await capture(outbox, USER, 'visit_in', HERE, s, { customer_id: 'cus_1', photo })
    const second = await capture(outbox, USER, 'visit_out', HERE, s, { customer_id: 'cus_1' })

    const offline = await outbox.sync(USER, server.send, preparer(async () => {
      throw new TypeError('Failed to fetch')
    }))
    expect(offline.error).toBeInstanceOf(TypeError)
    expect(server.requests.length).toBe(0) // the later punch did not overtake the first
    expect((await outbox.pending(USER)).map((i) => [i.client_id, !!i.photo])).toEqual([
      [first.client_id, true],
      [second.client_id, false],
    ])

    const refused = await outbox.sync(USER, server.send, preparer(async () => {
      throw new Refused('not an image')
    }))
    expect(refused).toMatchObject({ sent: 2, remaining: 0 })
    const sent = JSON.parse(server.stored.get(first.client_id)!)
    expect(sent.photo_id).toBeUndefined()
    expect(sent.signature).toMatch(/^[A-Za-z0-9_-]{86}$/)
    expect(server.requests[0].map((p) => p.client_id)).toEqual([first.client_id, second.client_id])
  })
})

describe('time proof', () => {
  it('anchors at the midpoint of the request and counts elapsed time from the monotonic clock', async () => {
    let t = 1000
    const clock = () => t
    const wall = () => 1_800_000_000_000 + t // awake: the wall clock moves with the monotonic one
    await refreshAnchor(USER, async () => {
      t += 200
      return { now: '2026-11-27T00:30:00.250000Z', token: 'tok-0123456789', expires_at: '2026-11-30T00:30:00.250000Z' }
    }, clock, wall)
    t = 61_100
    expect(proofNow(USER, clock, wall)).toEqual({
      anchor_token: 'tok-0123456789',
      anchor_server_time: '2026-11-27T00:30:00.250000Z',
      anchor_elapsed_ms: 1100,
      elapsed_ms: 61_100,
    })
    expect(proofNow('usr_other', clock, wall)).toBeNull()
  })

  it('an anchor from before a sleep proves nothing: the monotonic clock stood still', async () => {
    let t = 1000
    let asleep = 0
    const clock = () => t
    const wall = () => 1_800_000_000_000 + t + asleep
    await refreshAnchor(USER, async () => ({ now: '2026-11-27T00:30:00Z', token: 'tok-0123456789', expires_at: '2026-11-30T00:30:00Z' }), clock, wall)
    t += 60_000
    asleep = 4_000 // within the slack: clocks drift and timers are coarse
    expect(proofNow(USER, clock, wall)?.elapsed_ms).toBe(61_000)
    asleep = 3_600_000 // an hour in a pocket: performance.now() did not count it
    expect(proofNow(USER, clock, wall)).toBeNull()
    await refreshAnchor(USER, async () => ({ now: '2026-11-27T01:31:00Z', token: 'tok-9876543210', expires_at: '2026-11-30T01:31:00Z' }), clock, wall)
    expect(proofNow(USER, clock, wall)?.anchor_token).toBe('tok-9876543210')
    t += 72 * 3_600_000 // awake all along: still within the server's lifetime for it
    expect(proofNow(USER, clock, wall)?.anchor_token).toBe('tok-9876543210')
    t += 1 // past it: the server would not believe it
    expect(proofNow(USER, clock, wall)).toBeNull()
  })

  it('punches carry the proof while the page lives, and none after a reload cleared it', async () => {
    const outbox = new Outbox(db)
    const s = await signer()
    let t = 500
    const base = Date.now()
    await refreshAnchor(USER, async () => ({ now: '2026-11-27T00:30:00Z', token: 'tok-0123456789', expires_at: '2026-11-30T00:30:00Z' }), () => t, () => base + t)
    t = 90_500
    const withProof = await capture(outbox, USER, 'clock_in', HERE, s, {}, { online: false, clock: () => t, now: new Date(base + t) })
    expect(withProof.time_proof?.elapsed_ms! - withProof.time_proof?.anchor_elapsed_ms!).toBe(90_000)
    clearAnchor() // what a reload does: performance.now() restarts, the anchor is gone
    const without = await capture(outbox, USER, 'clock_out', HERE, s, {}, { online: false })
    expect(without.time_proof).toBeUndefined()
    expect(without.offline).toBe(true)
  })
})
