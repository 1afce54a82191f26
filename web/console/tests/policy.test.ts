import { describe, expect, it } from 'vitest'
import { RULE_GROUPS, THRESHOLDS, groupRules, mergePolicy, overrideCount, overrides, teamChain, thresholdsOf, withRule, withSetting, without } from '../src/lib/policy'
import { testOutcome } from '../src/lib/robots'
import { moved, newKey, parseOptions, problems } from '../src/lib/visitform'

const org = {
  max_speed_kmh: 350,
  reject_critical: false,
  rules: { duplicate: { enabled: true, severity: 'info' as const }, mock_location: { enabled: true, severity: 'critical' as const } },
}

describe('the policy layers', () => {
  it('merge as the server does: scalars replace, rules per rule and per field', () => {
    const team = { max_speed_kmh: 200, rules: { duplicate: { enabled: false } } }
    const person = { rules: { duplicate: { severity: 'warning' as const } } }
    const out = mergePolicy(org, team, null, person)
    expect(out.max_speed_kmh).toBe(200)
    expect(out.reject_critical).toBe(false)
    expect(out.rules?.duplicate).toEqual({ enabled: false, severity: 'warning' })
    expect(out.rules?.mock_location).toEqual({ enabled: true, severity: 'critical' })
    expect(org.rules.duplicate).toEqual({ enabled: true, severity: 'info' }) // the base is not changed
  })

  it('follow a team up to its root, root first, and stop at a loop', () => {
    const teams = [
      { id: 'a', parent_id: null },
      { id: 'b', parent_id: 'a' },
      { id: 'c', parent_id: 'b' },
      { id: 'x', parent_id: 'y' },
      { id: 'y', parent_id: 'x' },
    ]
    expect(teamChain(teams, 'c')).toEqual(['a', 'b', 'c'])
    expect(teamChain(teams, 'a')).toEqual(['a'])
    expect(teamChain(teams, null)).toEqual([])
    expect(teamChain(teams, 'x')).toEqual(['y', 'x'])
  })

  it('edit one knob at a time and reset it to inherit again', () => {
    let o = withRule({}, 'duplicate', 'enabled', false)
    o = withSetting(o, 'max_speed_kmh', 180)
    expect(o).toEqual({ rules: { duplicate: { enabled: false } }, max_speed_kmh: 180 })
    expect(overrides(o, 'duplicate')).toBe(true)
    expect(overrides(o, 'duplicate', 'severity')).toBe(false)
    expect(overrides(o, 'max_speed_kmh')).toBe(true)
    expect(overrides(o, 'mock_location')).toBe(false)
    expect(overrideCount(o)).toBe(2)
    o = without(o, 'duplicate')
    expect(o).toEqual({ max_speed_kmh: 180 }) // no empty `rules` left
    expect(without(o, 'max_speed_kmh')).toEqual({})
  })

  it('place every threshold under a rule or the general settings, each once', () => {
    const keys = THRESHOLDS.map((th) => th.key)
    expect(new Set(keys).size).toBe(keys.length)
    expect(thresholdsOf('too_perfect').map((th) => th.key)).toEqual([
      'too_perfect_days',
      'too_perfect_min_decimals',
      'too_perfect_max_accuracy_m',
    ])
    expect(thresholdsOf(null).map((th) => th.key)).toEqual(['correction_monthly_quota', 'correction_max_age_days'])
  })
})

describe('the rule groups', () => {
  it('hold each rule once, keep the order given, and put an unknown rule under other', () => {
    const all = Object.values(RULE_GROUPS).flat()
    expect(new Set(all).size).toBe(all.length)
    expect(all).toHaveLength(20)
    expect(groupRules(['duplicate', 'photo_reused', 'teleport', 'outside_geofence'])).toEqual([
      { group: 'location', rules: ['outside_geofence'] },
      { group: 'time', rules: ['duplicate'] },
      { group: 'photo', rules: ['photo_reused'] },
      { group: 'other', rules: ['teleport'] },
    ])
  })
})

describe("a robot's test message", () => {
  const never = { last_sent_at: null, last_error: null }
  it('is delivered when a new send time lands without an error', () => {
    expect(testOutcome(never, { last_sent_at: '2026-12-06T02:00:00Z', last_error: null })).toBe('delivered')
    const sent = { last_sent_at: '2026-12-06T01:00:00Z', last_error: null }
    expect(testOutcome(sent, sent)).toBe('pending')
    expect(testOutcome(sent, { last_sent_at: '2026-12-06T02:00:00Z', last_error: null })).toBe('delivered')
    // the error of an earlier send cleared by this one
    expect(testOutcome({ last_sent_at: sent.last_sent_at, last_error: 'HTTP 500' }, sent)).toBe('delivered')
  })
  it('failed when an error lands', () => {
    expect(testOutcome(never, { last_sent_at: null, last_error: 'HTTP 404: no such hook' })).toBe('failed')
    expect(testOutcome({ last_sent_at: null, last_error: 'old' }, { last_sent_at: null, last_error: 'new' })).toBe('failed')
    expect(testOutcome({ last_sent_at: null, last_error: 'old' }, { last_sent_at: null, last_error: 'old' })).toBe('pending')
  })
})

describe('the visit settings lists', () => {
  it('key a new entry by its Latin label or a numbered prefix, never a taken key', () => {
    expect(newKey('Order taken!', [], 'outcome')).toBe('order_taken')
    expect(newKey('Order taken', ['order_taken'], 'outcome')).toBe('order_taken_1')
    expect(newKey('已下单', ['outcome_1'], 'outcome')).toBe('outcome_2')
    expect(newKey('x'.repeat(60), [], 'field')).toHaveLength(24)
    expect(newKey('客户 KPI 2026', [], 'field')).toBe('kpi_2026')
  })
  it('move a row up or down, clamped at the ends', () => {
    expect(moved(['a', 'b', 'c'], 2, -1)).toEqual(['a', 'c', 'b'])
    expect(moved(['a', 'b', 'c'], 0, -1)).toEqual(['a', 'b', 'c'])
    expect(moved(['a', 'b', 'c'], 0, 5)).toEqual(['b', 'c', 'a'])
  })
  it('say a blank label, a choice without choices or a choice twice before sending', () => {
    expect(parseOptions(' 是 \n\n否\n')).toEqual(['是', '否'])
    expect(
      problems([
        { label: ' ', type: 'text', options: [] },
        { label: '意向', type: 'choice', options: [] },
        { label: '意向', type: 'choice', options: ['高', '高'] },
        { label: '照片', type: 'photo', options: [] },
        { label: '已下单' },
      ]),
    ).toEqual({ 0: 'label', 1: 'options', 2: 'optionsTwice' })
  })
})
