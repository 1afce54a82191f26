import { describe, expect, it } from 'vitest'
import { baseCompile } from '@intlify/message-compiler'
import { createI18n } from 'vue-i18n'
import { ApiError, NetworkError } from '../src/api/client'
import { fromBrowser, initialLocale } from '../src/i18n'
import en from '../src/locales/en'
import zh from '../src/locales/zh-CN'
import {
  duration,
  findingText,
  notificationText,
  problemText,
  retryAfterSeconds,
  ruleName,
} from '../src/lib/messages'

function tr(locale: 'zh-CN' | 'en') {
  const i18n = createI18n({ legacy: false, locale, fallbackLocale: 'zh-CN', messages: { 'zh-CN': zh, en } })
  const g = i18n.global
  return {
    t: (k: string, named?: Record<string, unknown>, plural?: number) =>
      plural === undefined ? g.t(k, named ?? {}) : g.t(k, named ?? {}, plural),
    te: (k: string) => g.te(k),
  }
}
const zhT = tr('zh-CN')
const enT = tr('en')
const LATIN = /[A-Za-z]{4,}/ // an English word in a Chinese sentence

describe('findings in plain words', () => {
  // Every rule the detectors and the pipeline emit (src/fieldpunch/anomalies/detectors.py,
  // `v.find(` in src/fieldpunch/punches/pipeline.py).
  const rules = [
    'outside_geofence', 'low_accuracy', 'impossible_speed', 'clock_skew', 'stale_offline',
    'mock_location', 'unknown_device', 'shared_device', 'wifi_mismatch', 'duplicate',
    'off_schedule', 'too_perfect', 'sequence', 'foreign_device', 'revoked_device', 'unsigned',
    'bad_signature', 'time_proof_invalid', 'future_time', 'time_proof_mismatch',
    'time_anchor_expired', 'chosen_location', 'visit_out_far', 'visit_too_short', 'visit_unpaired',
    'photo_reused', 'photo_exif_mismatch',
  ]

  it('has a name and a sentence for every rule in both languages, never the English detail', () => {
    for (const rule of rules) {
      for (const { t, te } of [zhT, enT]) {
        expect(te(`rules.${rule}`), rule).toBe(true)
        const text = findingText({ rule, detail: 'ENGLISH DETAIL', evidence: {} }, t, te)
        expect(text, rule).not.toBe('ENGLISH DETAIL')
      }
      const zhText = findingText({ rule, detail: 'x', evidence: {} }, zhT.t, zhT.te)
      expect(zhText.replace(/Wi-Fi/g, ''), rule).not.toMatch(LATIN)
    }
  })

  it('uses the evidence numbers', () => {
    const low = { rule: 'low_accuracy', detail: '', evidence: { accuracy_m: 912.4, max_accuracy_m: 200 } }
    expect(findingText(low, zhT.t, zhT.te)).toBe('定位精度只有 ±912 米（上限 200 米），无法确定打卡地点。')
    expect(findingText(low, enT.t, enT.te)).toContain('±912 m (limit 200 m)')
    const out = { rule: 'outside_geofence', detail: '', evidence: { distance_outside_m: 2030.2, tolerance_m: 20 } }
    expect(findingText(out, zhT.t, zhT.te, 'zh-CN')).toBe('距打卡范围 2 公里，超出定位误差 2 公里。')
    const near = { rule: 'outside_geofence', detail: '', evidence: { distance_outside_m: 71.2, tolerance_m: 68 } }
    expect(findingText(near, zhT.t, zhT.te, 'zh-CN')).toBe('距打卡范围 71 米，超出定位误差 3 米。')
    expect(findingText(near, enT.t, enT.te, 'en')).toBe(
      '71 m from the allowed area, 3 m more than the location accuracy explains.',
    )
    const skew = { rule: 'clock_skew', detail: '', evidence: { skew_s: -600 } }
    expect(findingText(skew, zhT.t, zhT.te)).toContain('慢了 10 分钟')
    const speed = { rule: 'impossible_speed', detail: '', evidence: { distance_m: 120000, seconds: 600, speed_kmh: 700 } }
    expect(findingText(speed, enT.t, enT.te)).toBe('120 km from the previous punch only 10 min earlier: that needs at least 700 km/h.')
    const back = { rule: 'time_proof_mismatch', detail: '', evidence: { seconds_before_arrival: 600 } }
    expect(findingText(back, zhT.t, zhT.te)).toContain('提前了 10 分钟')
    const unsigned = { rule: 'unsigned', detail: '', evidence: { enrolled_device: true } }
    expect(findingText(unsigned, enT.t, enT.te)).toContain('enrolled phone')
    const seq = { rule: 'sequence', detail: '', evidence: { reason: 'clock_out_without_clock_in' } }
    expect(findingText(seq, zhT.t, zhT.te)).toBe('当天没有上班打卡就下班打卡。')
    const late = {
      rule: 'off_schedule',
      detail: '',
      evidence: { reason: 'late', seconds: 900, shift_start: '2026-03-02T01:00:00Z', shift_end: '2026-03-02T10:00:00Z' },
    }
    expect(findingText(late, zhT.t, zhT.te, 'zh-CN')).toMatch(/^上班打卡迟到 15 分钟（班次 .+–.+）。$/)
    const short = { rule: 'visit_too_short', detail: '', evidence: { seconds: 3, minimum_min: 5 } }
    expect(findingText(short, zhT.t, zhT.te)).toBe('这次拜访只有 3 秒，本单位要求至少 5 分钟。')
    const reboot = { rule: 'time_proof_invalid', detail: '', evidence: { elapsed_ms: -5 } }
    expect(findingText(reboot, zhT.t, zhT.te)).toContain('手机重启过')
  })

  it('says one and many in English', () => {
    const wifi = (n: number) => ({ rule: 'wifi_mismatch', detail: '', evidence: { seen_bssids: Array(n).fill('aa') } })
    expect(findingText(wifi(1), enT.t, enT.te, 'en')).toBe('The phone saw 1 Wi-Fi network, not one registered for this place.')
    expect(findingText(wifi(2), enT.t, enT.te, 'en')).toContain('saw 2 Wi-Fi networks, none')
    expect(findingText(wifi(1), zhT.t, zhT.te)).toBe('手机搜到 1 个 Wi-Fi，都不是该地点登记的。')
    const shared = { rule: 'shared_device', detail: '', evidence: { other_user_ids: ['u1'], days: 7 } }
    expect(findingText(shared, enT.t, enT.te, 'en')).toContain('1 other person also')
    expect(duration(2 * 86400, enT.t)).toBe('2 days')
  })

  it('keeps the server detail for a rule it does not know, and names it generically', () => {
    expect(findingText({ rule: 'new_rule', detail: 'Something new.' }, zhT.t, zhT.te)).toBe('Something new.')
    expect(ruleName('new_rule', zhT.t, zhT.te)).toBe('其他需要复核的情况')
  })

  it('formats durations', () => {
    expect(duration(40, zhT.t)).toBe('40 秒')
    expect(duration(3600 * 5, enT.t)).toBe('5 h')
    expect(duration(86400 * 3, zhT.t)).toBe('3 天')
  })
})

describe('problems in plain words', () => {
  const problem = (status: number, errors: { loc: (string | number)[]; msg: string }[] = [], retry: string | null = null) =>
    new ApiError(status, errors.map((e) => `${e.loc.join('.')}: ${e.msg}`).join('; ') || 'x', { detail: 'x', errors }, retry)

  it('says a wrong password plainly', () => {
    expect(problemText(problem(401), zhT.t, zhT.te, 'login')).toBe('手机号、邮箱或密码不正确。')
    expect(problemText(problem(401), enT.t, enT.te, 'login')).toBe('Wrong phone number, email or password.')
  })

  it('never shows a field path: a 422 by the last element of its loc', () => {
    const future = problem(422, [{ loc: ['body', 'at'], msg: 'a correction is for a punch in the past' }])
    const text = problemText(future, zhT.t, zhT.te, 'correction')
    expect(text).toBe('补卡时间不在允许范围内：不能晚于现在，也不能太久以前。')
    expect(text).not.toContain('body')
    const generic = problemText(problem(422, [{ loc: ['body', 'note'], msg: 'too long' }]), zhT.t, zhT.te)
    expect(generic).toBe('请检查：备注。')
    expect(problemText(problem(422, [{ loc: ['body', 'zzz'], msg: 'bad' }]), enT.t, enT.te)).toBe(
      'Something in the form is not valid. Check it and try again.',
    )
  })

  it('explains offline, conflicts, rate limits and server errors', () => {
    const offline = problemText(new NetworkError('Failed to fetch'), zhT.t, zhT.te, 'correction')
    expect(offline).toContain('没有网络连接')
    expect(offline).not.toContain('Failed to fetch')
    expect(problemText(new TypeError('Failed to fetch'), enT.t, enT.te)).toBe('No connection. Try again when you are online.')
    expect(problemText(problem(409), zhT.t, zhT.te, 'correction')).toContain('补卡次数已用完')
    expect(problemText(problem(429, [], '120'), zhT.t, zhT.te, 'login')).toBe('尝试次数太多，请 2 分钟后再试。')
    expect(problemText(problem(429), enT.t, enT.te, 'login')).toBe('Too many attempts. Try again later.')
    expect(problemText(problem(503), zhT.t, zhT.te)).toBe('服务器暂时出错，请稍后再试。')
    expect(problemText(new Error('boom'), zhT.t, zhT.te)).toBe('出了点问题，请再试一次。')
  })

  it('reads Retry-After as seconds or a date', () => {
    expect(retryAfterSeconds('30')).toBe(30)
    expect(retryAfterSeconds(new Date(1_000_000 + 90_000).toUTCString(), 1_000_000)).toBe(90)
    expect(retryAfterSeconds(null)).toBeNull()
    expect(retryAfterSeconds('soon')).toBeNull()
  })
})

describe('notifications', () => {
  it('localizes known kinds and keeps the server text for others', () => {
    const critical = {
      kind: 'anomaly.critical',
      title: 'Critical: mock location — 王五',
      body: 'Mock location reported.\nclock in at 2026-03-02 09:01 (Asia/Shanghai).',
      data: { rule: 'mock_location', severity: 'critical' },
    }
    expect(notificationText(critical, zhT.t, zhT.te)).toEqual({
      title: '严重异常：检测到模拟定位',
      body: '王五 的打卡有严重异常（检测到模拟定位），请尽快复核。',
    })
    const shift = { kind: 'reminder.shift', title: 'You have not clocked in', body: 'Your shift starts at 09:00.' }
    expect(notificationText(shift, zhT.t, zhT.te)).toEqual({ title: '你还没有上班打卡', body: '班次 09:00 开始。' })
    const visit = { kind: 'reminder.visit', title: 'Visit at 14:30: 华东精密仪器', body: 'Check in when you arrive.' }
    expect(notificationText(visit, zhT.t, zhT.te)).toEqual({ title: '14:30 拜访：华东精密仪器', body: '到达后请签到。' })
    const test = { kind: 'test', title: 'Test notification', body: 'If you read this…' }
    expect(notificationText(test, zhT.t, zhT.te).title).toBe('测试通知')
    const other = { kind: 'task.assigned', title: 'Server words', body: 'More words' }
    expect(notificationText(other, zhT.t, zhT.te)).toEqual({ title: 'Server words', body: 'More words' })
  })

  it('tells decisions about me from their data, with the manager\'s comment', () => {
    const at = new Date(2026, 2, 2, 9, 1).toISOString() // 3/2 09:01 on this machine's clock
    const approved = {
      kind: 'correction.decided',
      title: 'Correction approved: clock in at 2026-03-02 09:01',
      body: 'Your request … was approved.',
      data: { status: 'approved', kind: 'clock_in', at, comment: '下次记得充电' },
    }
    expect(notificationText(approved, zhT.t, zhT.te)).toEqual({
      title: '补卡申请已通过',
      body: '上班打卡，3/2 09:01\n主管留言：下次记得充电',
    })
    const rejected = {
      kind: 'anomaly.decided',
      title: 'Punch rejected after review: mock location',
      body: '…',
      data: { status: 'rejected', rule: 'mock_location', punch_time: at, comment: '' },
    }
    expect(notificationText(rejected, zhT.t, zhT.te)).toEqual({
      title: '打卡复核未通过',
      body: '3/2 09:01 的打卡（检测到模拟定位）',
    })
    const odd = { ...rejected, data: { status: 'superseded' } }
    expect(notificationText(odd, zhT.t, zhT.te).title).toBe(rejected.title)
  })
})

describe('language', () => {
  it("follows the browser's first language unless the person chose", () => {
    expect(fromBrowser(['en-US', 'zh-CN'])).toBe('en')
    expect(fromBrowser(['zh-TW', 'en'])).toBe('zh-CN')
    expect(fromBrowser(['de-DE'])).toBe('en')
    expect(fromBrowser([])).toBe('zh-CN')
    expect(initialLocale(null, ['en-GB'])).toBe('en')
    expect(initialLocale('zh-CN', ['en-GB'])).toBe('zh-CN')
    expect(initialLocale('en', ['zh-CN'])).toBe('en')
    expect(initialLocale('garbage', ['zh-HK'])).toBe('zh-CN')
  })

  it('has the same keys in both languages', () => {
    const keys = (o: object, p = ''): string[] =>
      Object.entries(o).flatMap(([k, v]) => (typeof v === 'object' ? keys(v, `${p}${k}.`) : [`${p}${k}`]))
    expect(keys(en).sort()).toEqual(keys(zh).sort())
  })
})

describe('every message compiles', () => {
  // A stray "@" or "|" breaks a message only at run time, in the browser (vue-i18n's syntax):
  // compile each one here, as the app will.
  it('in both languages', () => {
    const walk = (o: Record<string, unknown>, at: string[] = []): [string, string][] =>
      Object.entries(o).flatMap(([k, v]): [string, string][] =>
        typeof v === 'string' ? [[[...at, k].join('.'), v]] : walk(v as Record<string, unknown>, [...at, k]),
      )
    for (const messages of [zh, en]) {
      for (const [key, source] of walk(messages as Record<string, unknown>)) {
        const errors: string[] = []
        baseCompile(source, { onError: (e) => errors.push(e.message) })
        expect(errors, `${key}: ${source}`).toEqual([])
      }
    }
  })
})

describe('visit findings', () => {
  it('says a visit left open overnight in plain words', () => {
    const f = { rule: 'visit_unpaired', detail: 'x', evidence: { reason: 'visit_in_never_closed' } }
    expect(findingText(f, zhT.t, zhT.te)).toBe('签到后当天一直没有签退。')
    expect(findingText(f, enT.t, enT.te)).toBe('Checked in but never checked out that day.')
  })
})
