/**
 * The few policy numbers the live readout needs, read from the person's effective policy
 * (`GET /api/v1/policy/users/{id}`, which staff may read) and kept for offline use.
 */
import { reactive } from 'vue'
import { api, ok } from '../api/client'
import { DEFAULT_MAX_ACCURACY_M } from './geo'

const KEY = 'fieldpunch.limits'

export interface Limits {
  /** A fix worse than this is flagged `low_accuracy`. */
  max_accuracy_m: number
  /** Whether the `low_accuracy` rule is on (off: a coarse fix is not flagged). */
  low_accuracy_on: boolean
}

const DEFAULTS: Limits = { max_accuracy_m: DEFAULT_MAX_ACCURACY_M, low_accuracy_on: true }

function saved(): Limits {
  try {
    const raw = localStorage.getItem(KEY)
    return raw ? { ...DEFAULTS, ...(JSON.parse(raw) as Partial<Limits>) } : { ...DEFAULTS }
  } catch {
    return { ...DEFAULTS }
  }
}

export const limits = reactive<Limits>(saved())

/** The limits out of an effective policy document (anything missing keeps the default). */
export function limitsOf(effective: Record<string, unknown> | null | undefined): Limits {
  const max = effective?.max_accuracy_m
  const rules = effective?.rules as Record<string, { enabled?: unknown }> | undefined
  return {
    max_accuracy_m: typeof max === 'number' && max > 0 ? max : DEFAULT_MAX_ACCURACY_M,
    low_accuracy_on: rules?.low_accuracy?.enabled !== false,
  }
}

let loaded: string | null = null

/** Once per session and person; offline or refused keeps the last known (or default) limits. */
export async function loadLimits(userId: string): Promise<void> {
  if (loaded === userId) return
  try {
    const doc = await ok(
      api.GET('/api/v1/policy/users/{user_id}', { params: { path: { user_id: userId } } }),
    )
    Object.assign(limits, limitsOf(doc.effective))
    localStorage.setItem(KEY, JSON.stringify(limits))
    loaded = userId
  } catch {
    /* keep what we have */
  }
}

// --- the organization's field-punch rules (GET /api/v1/org) ------------------------------------

const FIELD_KEY = 'fieldpunch.fieldRules'

/** What an out-of-range (外勤) punch must carry, by the organization's settings. */
export interface FieldRules {
  note_required: boolean
  photo_required: boolean
}

function savedRules(): FieldRules {
  try {
    const raw = localStorage.getItem(FIELD_KEY)
    return { note_required: false, photo_required: false, ...(raw ? (JSON.parse(raw) as Partial<FieldRules>) : {}) }
  } catch {
    return { note_required: false, photo_required: false }
  }
}

export const fieldRules = reactive<FieldRules>(savedRules())

/** Each time the punch screen opens (an admin may have just changed them); offline keeps the last. */
export async function loadFieldRules(): Promise<void> {
  try {
    const org = await ok(api.GET('/api/v1/org'))
    Object.assign(fieldRules, {
      note_required: org.field_punch_note_required === true,
      photo_required: org.field_punch_photo_required === true,
    })
    localStorage.setItem(FIELD_KEY, JSON.stringify(fieldRules))
  } catch {
    /* keep what we have */
  }
}
