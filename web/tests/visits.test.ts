import 'fake-indexeddb/auto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { VisitField, VisitOut } from '../src/api/types'
import { RecordQueue, type PunchState, type RecordDeps } from '../src/lib/answers'
import { openDb, type Db, type RecordItem } from '../src/lib/db'
import type { Fence } from '../src/lib/geo'
import { nextAction, planRows, type VisitPunch } from '../src/lib/plan'
import { answersOf, emptyDraft, formProblems, hasRecord } from '../src/lib/visitform'

const NEAR: Fence = { id: 'cus_near', name: '华东精密仪器', kind: 'customer', lat: 31.245, lon: 121.506, radius_m: 120 }
const FAR: Fence = { id: 'cus_far', name: '远方客户', kind: 'customer', lat: 31.4, lon: 121.2, radius_m: 100 }
const HERE = { lat: 31.245, lon: 121.506, accuracy_m: 10 }

function visit(id: string, customer: string, start: string | null, extra: Partial<VisitOut> = {}): VisitOut {
  return {
    id, customer_id: customer, user_id: 'usr_A', planned: true, planned_start: start, planned_end: null,
    expected_min: null, purpose: '', day: '2026-12-05', state: 'planned', cancel_reason: '',
    cancelled_by: null, cancelled_at: null, started_at: null, ended_at: null, in_punch_id: null,
    out_punch_id: null, duration_min: null, note: '', outcome: null, next_follow_up: null, answers: {},
    photo_ids: [], created_by: 'usr_A', created_at: '2026-12-05T00:00:00Z', updated_at: '2026-12-05T00:00:00Z',
    ...extra,
  }
}

function p(client: string, kind: VisitPunch['kind'], at: string, customer: string, extra: Partial<VisitPunch> = {}): VisitPunch {
  return { client_id: client, kind, captured_at: at, customer_id: customer, visit_id: null, punch_id: null, ...extra }
}

describe("today's plan", () => {
  it('orders by planned time, undated last, with the distance from here', () => {
    const rows = planRows(
      [visit('vis_3', 'cus_near', null), visit('vis_2', 'cus_far', '2026-12-05T01:00:00Z'), visit('vis_1', 'cus_near', '2026-12-05T00:00:00Z')],
      [],
      [NEAR, FAR],
      HERE,
    )
    expect(rows.map((r) => r.key)).toEqual(['vis_1', 'vis_2', 'vis_3'])
    expect(rows[0].inside).toBe(true)
    expect(rows[0].distance_m).toBeLessThan(1)
    expect(rows[1].distance_m).toBeGreaterThan(30_000)
  })

  it('breaks a tie in time by distance, and has no distance without a position', () => {
    const same = '2026-12-05T01:00:00Z'
    const visits = [visit('vis_a', 'cus_far', same), visit('vis_b', 'cus_near', same)]
    expect(planRows(visits, [], [NEAR, FAR], HERE).map((r) => r.key)).toEqual(['vis_b', 'vis_a'])
    expect(planRows(visits, [], [NEAR, FAR], null).every((r) => r.distance_m === null)).toBe(true)
  })

  it('follows the distance as the position moves', () => {
    const visits = [visit('vis_1', 'cus_near', '2026-12-05T01:00:00Z')]
    const near = planRows(visits, [], [NEAR], HERE)[0].distance_m!
    const moved = planRows(visits, [], [NEAR], { ...HERE, lat: HERE.lat + 0.01 })[0].distance_m!
    expect(moved - near).toBeGreaterThan(1000)
  })

  it("shows the phone's own queued check-in and check-out before the server knows", () => {
    const visits = [visit('vis_1', 'cus_near', '2026-12-05T01:00:00Z')]
    const checkIn = p('c1', 'visit_in', '2026-12-05T01:05:00Z', 'cus_near', { visit_id: 'vis_1' })
    const [row] = planRows(visits, [checkIn], [NEAR], HERE)
    expect(row.state).toBe('in_progress')
    expect(nextAction(row)).toBe('visit_out')
    const out = p('c2', 'visit_out', '2026-12-05T01:35:00Z', 'cus_near', { visit_id: 'vis_1' })
    const [done] = planRows(visits, [checkIn, out], [NEAR], HERE)
    expect(done.state).toBe('done')
    expect(nextAction(done)).toBeNull()
    expect(done.check_in?.client_id).toBe('c1')
  })

  it('gives an unnamed check-in at a planned customer to the first open plan there only', () => {
    const visits = [visit('vis_1', 'cus_near', '2026-12-05T01:00:00Z'), visit('vis_2', 'cus_near', '2026-12-05T06:00:00Z')]
    const rows = planRows(visits, [p('c1', 'visit_in', '2026-12-05T01:02:00Z', 'cus_near')], [NEAR], HERE)
    expect(rows.map((r) => r.state)).toEqual(['in_progress', 'planned'])
  })

  it('lists a queued check-in with no plan as an unplanned visit, and a server visit by its punch', () => {
    const rows = planRows([], [p('c1', 'visit_in', '2026-12-05T02:00:00Z', 'cus_far')], [NEAR, FAR], HERE)
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ visit: null, planned: false, state: 'in_progress', customer_id: 'cus_far' })
    const server = visit('vis_9', 'cus_far', null, { planned: false, state: 'in_progress', started_at: '2026-12-05T02:00:00Z', in_punch_id: 'pun_1' })
    const again = planRows([server], [p('c1', 'visit_in', '2026-12-05T02:00:00Z', 'cus_far', { punch_id: 'pun_1' })], [NEAR, FAR], HERE)
    expect(again.map((r) => r.key)).toEqual(['vis_9'])
  })

  it('leaves cancelled plans out and keeps a missed one open for a check-in', () => {
    const rows = planRows(
      [visit('vis_1', 'cus_near', '2026-12-05T01:00:00Z', { state: 'cancelled' }), visit('vis_2', 'cus_far', '2026-12-05T00:00:00Z', { state: 'missed' })],
      [],
      [NEAR, FAR],
      HERE,
    )
    expect(rows.map((r) => [r.key, r.state, nextAction(r)])).toEqual([['vis_2', 'missed', 'visit_in']])
  })
})

const FIELDS: VisitField[] = [
  { key: 'contact', label: '接待人', type: 'text', required: true, options: [] },
  { key: 'qty', label: '数量', type: 'number', required: false, options: [] },
  { key: 'stock', label: '库存', type: 'choice', required: false, options: ['充足', '缺货'] },
  { key: 'shelf', label: '货架照片', type: 'photo', required: true, options: [] },
]

describe('the visit form', () => {
  it('holds the check-out back while a required field is empty', () => {
    const draft = emptyDraft()
    expect(formProblems(FIELDS, draft)).toEqual({ contact: 'required', shelf: 'required' })
    draft.values.contact = '   '
    expect(formProblems(FIELDS, draft).contact).toBe('required')
    draft.values.contact = '王经理'
    draft.photos.shelf = new Blob(['x'], { type: 'image/jpeg' })
    expect(formProblems(FIELDS, draft)).toEqual({})
  })

  it('checks numbers (full-width digits and decimal commas too) and choices', () => {
    const draft = { ...emptyDraft(), values: { contact: '王', qty: '十二', stock: '偏少' }, photos: { shelf: new Blob() } }
    expect(formProblems(FIELDS, draft)).toEqual({ qty: 'number', stock: 'choice' })
    draft.values.qty = '１２，５'
    draft.values.stock = '缺货'
    expect(formProblems(FIELDS, draft)).toEqual({})
    expect(answersOf(FIELDS, draft)).toEqual({ contact: '王', qty: 12.5, stock: '缺货' })
  })

  it('sends no empty answers and no photos (those go up at sync)', () => {
    const draft = { ...emptyDraft(), values: { contact: ' 李主任 ', qty: '' }, photos: { shelf: new Blob() } }
    expect(answersOf(FIELDS, draft)).toEqual({ contact: '李主任' })
    expect(hasRecord([], emptyDraft())).toBe(false)
    expect(hasRecord([], { ...emptyDraft(), outcome: 'order' })).toBe(true)
  })
})

describe('the visit records queue', () => {
  let db: Db
  let name: string
  let n = 0
  beforeEach(async () => {
    name = `records-test-${n++}`
    db = await openDb(name)
  })
  afterEach(() => {
    db.close()
    indexedDB.deleteDatabase(name)
  })

  function record(extra: Partial<RecordItem> = {}): Omit<RecordItem, 'seq' | 'state' | 'attempts' | 'problem' | 'created_at'> {
    return {
      user_id: 'usr_A', visit_id: null, customer_id: 'cus_near', in_client_id: 'c_in', in_punch_id: null,
      out_client_id: 'c_out', day: '2026-12-05', patch: { outcome: 'order', answers: { contact: '王' } }, photos: {},
      ...extra,
    }
  }

  function deps(over: Partial<RecordDeps> & { punches?: Record<string, PunchState> } = {}) {
    const calls = { patches: [] as [string, unknown][], uploads: 0, finds: 0 }
    const states = over.punches ?? { c_in: 'sent', c_out: 'sent' }
    const d: RecordDeps = {
      punch: async (id) => ({ state: states[id] ?? 'unknown', punch_id: states[id] === 'sent' ? `pun_${id}` : null }),
      findVisit: async (_item, inPunch) => {
        calls.finds++
        return inPunch === 'pun_c_in' ? 'vis_new' : null
      },
      upload: async () => ({ id: `pho_${++calls.uploads}` }),
      patch: async (visitId, body) => {
        calls.patches.push([visitId, body])
      },
      refusal: (e) => (e instanceof Error && e.message.startsWith('422') ? e.message : null),
      ...over,
    }
    return { d, calls, states }
  }

  it('waits for its punches, then finds the unplanned visit and patches it once', async () => {
    const q = new RecordQueue(db)
    await q.add(record())
    const { d, calls, states } = deps({ punches: { c_in: 'sent', c_out: 'pending' } })
    expect(await q.sync('usr_A', d)).toMatchObject({ sent: 0, waiting: 1 })
    expect(calls.finds).toBe(0)
    states.c_out = 'sent'
    expect(await q.sync('usr_A', d)).toMatchObject({ sent: 1, waiting: 0 })
    expect(calls.patches).toEqual([['vis_new', { outcome: 'order', answers: { contact: '王' } }]])
    expect(await q.items('usr_A')).toEqual([])
    await q.sync('usr_A', d)
    expect(calls.patches).toHaveLength(1)
  })

  it('keeps waiting while the server has not paired the punches yet', async () => {
    const q = new RecordQueue(db)
    await q.add(record())
    const { d } = deps({ findVisit: async () => null })
    expect(await q.sync('usr_A', d)).toMatchObject({ sent: 0, waiting: 1 })
    expect((await q.pending('usr_A'))).toHaveLength(1)
  })

  it('patches a planned visit by its id and uploads each photo once', async () => {
    const q = new RecordQueue(db)
    await q.add(record({ visit_id: 'vis_1', photos: { shelf: new Blob(['x']) } }))
    let fail = true
    const { d, calls } = deps({
      patch: async (id, body) => {
        if (fail) throw new Error('offline')
        calls.patches.push([id, body])
      },
    })
    const first = await q.sync('usr_A', d)
    expect(first.waiting).toBe(1)
    expect(first.error).toBeInstanceOf(Error)
    fail = false
    await q.sync('usr_A', d)
    expect(calls.uploads).toBe(1) // kept from the first try
    expect(calls.finds).toBe(0)
    expect(calls.patches).toEqual([['vis_1', { outcome: 'order', answers: { contact: '王', shelf: 'pho_1' } }]])
  })

  it('marks a refused record rejected instead of retrying it forever, and keeps the order', async () => {
    const q = new RecordQueue(db)
    await q.add(record({ visit_id: 'vis_1' }))
    await q.add(record({ visit_id: 'vis_2' }))
    const { d, calls } = deps({
      patch: async (id, body) => {
        if (id === 'vis_1') throw new Error('422 required: 接待人')
        calls.patches.push([id, body])
      },
    })
    expect(await q.sync('usr_A', d)).toMatchObject({ sent: 1, rejected: 1 })
    const [left] = await q.items('usr_A')
    expect(left).toMatchObject({ visit_id: 'vis_1', state: 'rejected', problem: '422 required: 接待人' })
    await q.dismiss(left.seq!)
    expect(await q.items('usr_A')).toEqual([])
  })

  it('rejects the record of an unplanned visit whose check-out the server refused', async () => {
    const q = new RecordQueue(db)
    await q.add(record())
    const { d } = deps({ punches: { c_in: 'sent', c_out: 'rejected' } })
    expect(await q.sync('usr_A', d)).toMatchObject({ rejected: 1 })
  })
})
