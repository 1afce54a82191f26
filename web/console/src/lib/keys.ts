/** The review queue's keyboard: j/k move, a approve, r reject (never while typing). */
export type KeyAction = 'next' | 'prev' | 'approve' | 'reject'

const KEYS: Record<string, KeyAction> = { j: 'next', k: 'prev', a: 'approve', r: 'reject', ArrowDown: 'next', ArrowUp: 'prev' }

interface KeyLike {
  key: string
  ctrlKey?: boolean
  metaKey?: boolean
  altKey?: boolean
  target?: unknown
}

const NOT_TEXT = new Set(['checkbox', 'radio', 'button', 'submit'])

function typing(target: unknown): boolean {
  const el = target as { tagName?: string; type?: string; isContentEditable?: boolean } | null
  if (!el) return false
  const tag = (el.tagName ?? '').toUpperCase()
  if (tag === 'INPUT') return !NOT_TEXT.has((el.type ?? 'text').toLowerCase())
  return tag === 'TEXTAREA' || tag === 'SELECT' || !!el.isContentEditable
}

export function keyAction(e: KeyLike): KeyAction | null {
  if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return null
  return KEYS[e.key] ?? null
}

/** The index after a move, kept inside the list (-1 for an empty one). */
export function moved(index: number, length: number, step: number): number {
  if (length === 0) return -1
  return Math.min(length - 1, Math.max(0, index + step))
}

/** Where the cursor goes when the items it pointed at leave: the same place, else the last. */
export function afterRemoval(index: number, lengthAfter: number): number {
  return lengthAfter === 0 ? -1 : Math.min(index, lengthAfter - 1)
}
