/**
 * The visit form at check-out (pure): the org's fields (text, number, choice, photo; some
 * required), what the person typed, what blocks the check-out, and the answers the server takes
 * (`PATCH /visits/{id}`: field key → text, number, choice or photo id).
 */
import type { VisitField } from '../api/types'

export type FieldProblem = 'required' | 'number' | 'choice'

/** What the screen holds: every field as typed text (or a chosen photo), plus the record. */
export interface FormDraft {
  values: Record<string, string>
  photos: Record<string, Blob | null>
  outcome: string | null
  note: string
  next_follow_up: string | null
}

export type Answer = string | number

export function emptyDraft(): FormDraft {
  return { values: {}, photos: {}, outcome: null, note: '', next_follow_up: null }
}

function numberOf(text: string): number | null {
  // Phones type decimal commas and full-width digits; the server takes a JSON number.
  const normal = text
    .trim()
    .replace(/[０-９]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0))
    .replace(/[，,]/g, '.')
    .replace(/．/g, '.')
  if (!/^[-+]?(\d+\.?\d*|\.\d+)$/.test(normal)) return null
  const n = Number(normal)
  return Number.isFinite(n) ? n : null
}

/** Each field that keeps the check-out back, with why; empty when the form may be sent. */
export function formProblems(
  fields: readonly VisitField[],
  draft: FormDraft,
): Record<string, FieldProblem> {
  const problems: Record<string, FieldProblem> = {}
  for (const f of fields) {
    if (f.type === 'photo') {
      if (f.required && !draft.photos[f.key]) problems[f.key] = 'required'
      continue
    }
    const text = (draft.values[f.key] ?? '').trim()
    if (!text) {
      if (f.required) problems[f.key] = 'required'
    } else if (f.type === 'number' && numberOf(text) === null) {
      problems[f.key] = 'number'
    } else if (f.type === 'choice' && !f.options.includes(text)) {
      problems[f.key] = 'choice'
    }
  }
  return problems
}

/**
 * The answers as the server takes them, photos left out (they are uploaded at sync and their
 * ids added then). Empty fields are not sent.
 */
export function answersOf(fields: readonly VisitField[], draft: FormDraft): Record<string, Answer> {
  const out: Record<string, Answer> = {}
  for (const f of fields) {
    if (f.type === 'photo') continue
    const text = (draft.values[f.key] ?? '').trim()
    if (!text) continue
    out[f.key] = f.type === 'number' ? (numberOf(text) ?? text) : text
  }
  return out
}

/** Whether anything beyond the punch itself was filled in: only then is the visit patched. */
export function hasRecord(fields: readonly VisitField[], draft: FormDraft): boolean {
  return (
    Object.keys(answersOf(fields, draft)).length > 0 ||
    Object.values(draft.photos).some((p) => !!p) ||
    !!draft.outcome ||
    !!draft.note.trim() ||
    !!draft.next_follow_up
  )
}
