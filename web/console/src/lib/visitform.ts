/**
 * The visit settings page's lists (`PUT /visit-outcomes`, `PUT /visit-form`): keys for new
 * entries, moving rows, and the checks the server would make, said before sending.
 *
 * Keys (`^[a-z0-9_-]{1,32}$`) are what visits store: an existing entry keeps its key when
 * renamed, so past visits keep their outcome and answers; a new one gets a key from its label's
 * Latin letters and digits, or `<prefix>_<n>` for a Chinese label.
 */
import type { components } from '../../../src/api/schema'

export type FieldType = components['schemas']['FieldIn']['type']
export const FIELD_TYPES: FieldType[] = ['text', 'number', 'choice', 'photo']

/** A key for a new entry labelled `label`, unlike every key in `taken`. */
export function newKey(label: string, taken: Iterable<string>, prefix: string): string {
  const used = new Set(taken)
  const base =
    label
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '')
      .slice(0, 24) || prefix
  if (base !== prefix && !used.has(base)) return base
  for (let n = 1; ; n++) {
    const key = `${base}_${n}`
    if (!used.has(key)) return key
  }
}

/** A copy of `list` with item `i` moved by `delta` places (clamped to the ends). */
export function moved<T>(list: T[], i: number, delta: number): T[] {
  const j = Math.max(0, Math.min(list.length - 1, i + delta))
  const out = [...list]
  const [item] = out.splice(i, 1)
  out.splice(j, 0, item)
  return out
}

/** Choices as typed, one a line: trimmed, blank lines dropped. */
export function parseOptions(text: string): string[] {
  return text
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean)
}

export type Problem = 'label' | 'options' | 'optionsTwice'

interface LabelLike {
  label: string
}
interface FieldLike extends LabelLike {
  type: FieldType
  options: string[]
}

/** Each row's problem before sending (a blank label; a choice without choices, or one twice). */
export function problems(rows: (LabelLike | FieldLike)[]): Record<number, Problem> {
  const out: Record<number, Problem> = {}
  rows.forEach((row, i) => {
    if (!row.label.trim()) out[i] = 'label'
    else if ('type' in row && row.type === 'choice') {
      if (!row.options.length) out[i] = 'options'
      else if (new Set(row.options).size !== row.options.length) out[i] = 'optionsTwice'
    }
  })
  return out
}
