import { describe, expect, it } from 'vitest'
import type { DayOut, PunchOut, UserOut } from '../src/api/types'
import { dueToday, openTasks } from '../src/lib/tasks'
import { clockedIn, teamToday } from '../src/lib/team'
import type { TaskOut } from '../src/api/types'

const user = (id: string, name: string, extra: Partial<UserOut> = {}) => ({ id, name, role: 'staff', active: true, ...extra }) as UserOut
const punch = (user_id: string, kind: PunchOut['kind'], at: string, extra: Partial<PunchOut> = {}) =>
  ({ id: `p_${user_id}_${at}`, user_id, kind, captured_at: at, status: 'accepted', anomalies: [], customer: null, ...extra }) as PunchOut
const day = (user_id: string, extra: Partial<DayOut>) => ({ user_id, statuses: [], late_min: 0, first_in: null, ...extra }) as DayOut

describe('my team today', () => {
  it('puts who needs attention first: absent, late, not yet in', () => {
    const rows = teamToday(
      [user('a', '张三'), user('b', '李四'), user('c', '王五'), user('d', '赵六'), user('e', '钱七'), user('m', '经理', { role: 'manager' })],
      [day('b', { statuses: ['late'], late_min: 20 }), day('c', { statuses: ['absent'], status: 'absent' })],
      [
        punch('a', 'clock_in', '2026-12-05T00:55:00Z'),
        punch('b', 'clock_in', '2026-12-05T01:20:00Z'),
        punch('e', 'clock_in', '2026-12-05T00:50:00Z'),
        punch('e', 'clock_out', '2026-12-05T10:00:00Z'),
      ],
      'm',
    )
    expect(rows.map((r) => [r.name, r.state])).toEqual([
      ['王五', 'absent'],
      ['李四', 'late'],
      ['赵六', 'not_yet'],
      ['张三', 'working'],
      ['钱七', 'off'],
    ])
    expect(rows[1].late_min).toBe(20)
    expect(clockedIn(rows)).toBe(3)
  })

  it('names the customer of an open visit and flags an out-of-range punch', () => {
    const [row] = teamToday(
      [user('a', '张三')],
      [],
      [
        punch('a', 'clock_in', '2026-12-05T01:00:00Z', { anomalies: [{ rule: 'outside_geofence', severity: 'warning', detail: '' }] }),
        punch('a', 'visit_in', '2026-12-05T02:00:00Z', { customer: { id: 'cus_1', name: '华东精密仪器', distance_m: 3 } as PunchOut['customer'] }),
      ],
      null,
    )
    expect(row).toMatchObject({ state: 'field', at_customer: '华东精密仪器', out_of_range: true })
  })

  it('ignores rejected punches and shows leave from the attendance day', () => {
    const rows = teamToday(
      [user('a', '张三'), user('b', '李四')],
      [day('b', { statuses: ['leave'] })],
      [punch('a', 'clock_in', '2026-12-05T01:00:00Z', { status: 'rejected' })],
      null,
    )
    expect(rows.map((r) => r.state)).toEqual(['not_yet', 'leave'])
  })
})

const task = (id: string, due: string | null, priority: TaskOut['priority'], status: TaskOut['status'] = 'open') =>
  ({ id, due, priority, status, created_at: `2026-12-0${id.length}T00:00:00Z` }) as TaskOut

describe('my tasks', () => {
  it('lists open tasks overdue first, then by due time, then by priority', () => {
    const now = Date.parse('2026-12-05T06:00:00Z')
    const list = [
      task('none', null, 'urgent'),
      task('later', '2026-12-08T00:00:00Z', 'low'),
      task('late', '2026-12-04T00:00:00Z', 'normal'),
      task('soon', '2026-12-05T08:00:00Z', 'high'),
      task('closed', '2026-12-01T00:00:00Z', 'urgent', 'done'),
    ]
    expect(openTasks(list, now).map((t) => t.id)).toEqual(['late', 'soon', 'later', 'none'])
    expect(dueToday(list, new Date(now)).map((t) => t.id)).toEqual(['late', 'soon'])
  })
})
