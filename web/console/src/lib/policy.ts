/**
 * The anomaly policy as the console edits it (`GET/PUT /policy`, `/policy/teams/{id}`,
 * `/policy/users/{id}`). A level (org, team, person) stores a partial override; what applies is
 * the defaults, then the org's override, then each team from the root down to the person's own,
 * then the person's (src/fieldpunch/anomalies/policy.py `resolve`): scalars replace, rules merge
 * per rule and per field. These helpers do that merge, edit an override one knob at a time and
 * read the API's field errors, so the page only draws.
 */
export type Severity = 'info' | 'warning' | 'critical'
export const SEVERITIES: Severity[] = ['info', 'warning', 'critical']

export interface RuleSetting {
  enabled?: boolean
  severity?: Severity
}
/** A policy or a partial override of one: `rules` by rule name, and scalar settings. */
export interface PolicyLayer {
  rules?: Record<string, RuleSetting>
  [setting: string]: unknown
}

export type Unit = 'm' | 'kmh' | 's' | 'min' | 'h' | 'days' | 'digits' | 'bits' | 'times'

/** One numeric threshold: the rule it tunes (null: the policy's own), its unit and range. */
export interface Threshold {
  key: string
  rule: string | null
  unit: Unit
  min: number
  max: number
  /** Whole numbers only (the server refuses 1.5 for these). */
  integer: boolean
}

/** Every numeric threshold of the policy, by the rule it belongs to (ranges as the server's). */
export const THRESHOLDS: Threshold[] = [
  { key: 'geofence_tolerance_max_m', rule: 'outside_geofence', unit: 'm', min: 0, max: 5000, integer: false },
  { key: 'max_accuracy_m', rule: 'low_accuracy', unit: 'm', min: 1, max: 100_000, integer: false },
  { key: 'max_speed_kmh', rule: 'impossible_speed', unit: 'kmh', min: 1, max: 5000, integer: false },
  { key: 'max_clock_skew_s', rule: 'clock_skew', unit: 's', min: 0, max: 7 * 86_400, integer: true },
  { key: 'stale_offline_h', rule: 'stale_offline', unit: 'h', min: 1, max: 24 * 366, integer: false },
  { key: 'duplicate_window_min', rule: 'duplicate', unit: 'min', min: 0, max: 24 * 60, integer: true },
  { key: 'shared_device_days', rule: 'shared_device', unit: 'days', min: 1, max: 366, integer: true },
  { key: 'too_perfect_days', rule: 'too_perfect', unit: 'days', min: 1, max: 366, integer: true },
  { key: 'too_perfect_min_decimals', rule: 'too_perfect', unit: 'digits', min: 1, max: 15, integer: true },
  { key: 'too_perfect_max_accuracy_m', rule: 'too_perfect', unit: 'm', min: 1, max: 100_000, integer: false },
  { key: 'visit_min_minutes', rule: 'visit_too_short', unit: 'min', min: 0, max: 24 * 60, integer: true },
  { key: 'photo_reuse_max_distance', rule: 'photo_reused', unit: 'bits', min: 0, max: 16, integer: true },
  { key: 'photo_reuse_days', rule: 'photo_reused', unit: 'days', min: 1, max: 366, integer: true },
  { key: 'photo_exif_max_skew_min', rule: 'photo_exif_mismatch', unit: 'min', min: 1, max: 7 * 24 * 60, integer: true },
  { key: 'photo_exif_max_distance_m', rule: 'photo_exif_mismatch', unit: 'm', min: 1, max: 100_000, integer: false },
  { key: 'correction_monthly_quota', rule: null, unit: 'times', min: 0, max: 1000, integer: true },
  { key: 'correction_max_age_days', rule: null, unit: 'days', min: 0, max: 366, integer: true },
]

export function thresholdsOf(rule: string | null): Threshold[] {
  return THRESHOLDS.filter((th) => th.rule === rule)
}

/** `layers` over `base`, most general first: scalars replace, rules merge per rule and field. */
export function mergePolicy(base: PolicyLayer, ...layers: (PolicyLayer | null | undefined)[]): PolicyLayer {
  const out: PolicyLayer = { ...base, rules: { ...(base.rules ?? {}) } }
  for (const layer of layers) {
    if (!layer) continue
    for (const [key, value] of Object.entries(layer)) {
      if (key !== 'rules') {
        out[key] = value
        continue
      }
      for (const [name, setting] of Object.entries((value ?? {}) as Record<string, RuleSetting>)) {
        out.rules![name] = { ...(out.rules![name] ?? {}), ...setting }
      }
    }
  }
  return out
}

interface TeamLike {
  id: string
  parent_id?: string | null
}

/** A team and its parents, root first, the team itself last (a loop is cut where it closes). */
export function teamChain(teams: TeamLike[], teamId: string | null | undefined): string[] {
  const parent = new Map(teams.map((tm) => [tm.id, tm.parent_id ?? null]))
  const chain: string[] = []
  let id = teamId ?? null
  while (id && !chain.includes(id)) {
    chain.push(id)
    id = parent.get(id) ?? null
  }
  return chain.reverse()
}

/** Whether the override sets this scalar, or this field of a rule (any field when none named). */
export function overrides(layer: PolicyLayer, key: string, field?: keyof RuleSetting): boolean {
  if (key in layer && key !== 'rules') return true
  const rule = layer.rules?.[key]
  if (!rule) return false
  return field ? field in rule : Object.keys(rule).length > 0
}

/** The override with one scalar set (a copy). */
export function withSetting(layer: PolicyLayer, key: string, value: unknown): PolicyLayer {
  return { ...layer, [key]: value }
}

/** The override with one field of one rule set (a copy). */
export function withRule(layer: PolicyLayer, rule: string, field: keyof RuleSetting, value: unknown): PolicyLayer {
  const rules = { ...(layer.rules ?? {}) }
  rules[rule] = { ...(rules[rule] ?? {}), [field]: value }
  return { ...layer, rules }
}

/**
 * The override without a scalar or a whole rule (a copy): that knob inherits again. Emptied
 * `rules` goes, so a level with nothing left sends `{}` (which removes its override).
 */
export function without(layer: PolicyLayer, key: string): PolicyLayer {
  const out: PolicyLayer = { ...layer }
  if (layer.rules && key in layer.rules) {
    const rules = { ...layer.rules }
    delete rules[key]
    if (Object.keys(rules).length) out.rules = rules
    else delete out.rules
  } else {
    delete out[key]
  }
  return out
}

/** How many knobs an override sets (a rule's fields each count). */
export function overrideCount(layer: PolicyLayer): number {
  let n = 0
  for (const [key, value] of Object.entries(layer)) {
    n += key === 'rules' ? Object.values(value as Record<string, RuleSetting>).reduce((s, r) => s + Object.keys(r).length, 0) : 1
  }
  return n
}

/** Where a knob's value comes from: the built-in default, an upper level, this level's change, or
 * (at the org's level) a change removed but not yet saved. */
export type Origin = 'default' | 'inherited' | 'override' | 'resetting'

/** The Element Plus tag type that marks an origin. */
export function originTag(origin: Origin): 'primary' | 'info' | 'warning' {
  return origin === 'override' ? 'primary' : origin === 'resetting' ? 'warning' : 'info'
}

/** The rules by what they look at, in the order the page shows them. */
export const RULE_GROUPS: Record<string, string[]> = {
  location: ['outside_geofence', 'low_accuracy', 'impossible_speed', 'mock_location', 'wifi_mismatch', 'too_perfect', 'chosen_location'],
  time: ['clock_skew', 'stale_offline', 'duplicate', 'off_schedule', 'sequence'],
  device: ['unknown_device', 'shared_device'],
  visit: ['visit_out_far', 'visit_too_short', 'visit_unpaired', 'field_evidence_missing'],
  photo: ['photo_reused', 'photo_exif_mismatch'],
}

/** The policy's rules in their groups (a rule the console does not know yet goes under `other`);
 * a group with none of `rules` is left out. */
export function groupRules(rules: string[]): { group: string; rules: string[] }[] {
  const known = new Set(Object.values(RULE_GROUPS).flat())
  const groups = Object.entries(RULE_GROUPS).map(([group, names]) => ({ group, rules: names.filter((r) => rules.includes(r)) }))
  groups.push({ group: 'other', rules: rules.filter((r) => !known.has(r)) })
  return groups.filter((g) => g.rules.length)
}
