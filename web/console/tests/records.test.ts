import { describe, expect, it, vi } from 'vitest'
import { ApiError } from '../../src/api/client'
import { useEditor, useSubmit } from '../src/lib/records'

const toasts: string[] = []
vi.mock('element-plus', () => ({ ElMessage: { success: (m: string) => toasts.push(m), error: () => undefined } }))
const t = (key: string): string => key

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

describe('a form sent', () => {
  it('gives the saved record and says so', async () => {
    const { submit, saving, error } = useSubmit(t)
    const saved = submit(async () => ({ id: 'x' }), ['name'], 'saved!')
    expect(saving.value).toBe(true)
    expect(await saved).toEqual({ id: 'x' })
    expect(saving.value).toBe(false)
    expect(error.value).toBe('')
    expect(toasts).toContain('saved!')
  })

  it('keeps a refusal by field, and what no field shows above the buttons', async () => {
    const { submit, errors, error, at } = useSubmit(t)
    const refused = new ApiError(422, 'invalid', {
      errors: [
        { loc: ['body', 'periods', 0, 'end'], msg: 'Value error, a period ends at another time than it starts' },
        { loc: [], msg: 'the request' },
      ],
    })
    const saved = await submit(() => Promise.reject(refused), ['periods'], 'saved!')
    expect(saved).toBeNull()
    expect(errors.value['periods.0.end']).toBe('a period ends at another time than it starts')
    expect(at('periods')).toBe('a period ends at another time than it starts')
    expect(error.value).toBe('the request')
  })
})
