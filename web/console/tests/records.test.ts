import { describe, expect, it } from 'vitest'
import { useEditor } from '../src/lib/records'

describe('a record dialog', () => {
  it('opens on a record or on none, and closes and reloads the list once saved', async () => {
    let reloads = 0
    const { editing, open, saved } = useEditor<{ id: string }>(async () => {
      reloads += 1
    })
    expect(editing.open).toBe(false)
    open({ id: 'a' })
    expect(editing).toEqual({ open: true, record: { id: 'a' } })
    open(null)
    expect(editing.record).toBeNull()
    await saved()
    expect(editing.open).toBe(false)
    expect(reloads).toBe(1)
  })
})
