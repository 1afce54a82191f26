import { describe, expect, it, vi } from 'vitest'

const box = vi.hoisted(() => ({ confirm: vi.fn() }))
vi.mock('element-plus', () => ({ ElMessageBox: box }))

import { confirmed } from '../src/lib/confirm'

describe('confirmed', () => {
  it('asks with a warning whose buttons name the choice, and says yes once confirmed', async () => {
    box.confirm.mockImplementation(async () => 'confirm')
    expect(await confirmed('有未保存的修改，确定离开？', '未保存', '离开', '留下')).toBe(true)
    expect(box.confirm).toHaveBeenCalledWith('有未保存的修改，确定离开？', '未保存', { type: 'warning', confirmButtonText: '离开', cancelButtonText: '留下' })
  })

  it('says no when the box is cancelled or closed', async () => {
    box.confirm.mockImplementation(async () => {
      throw 'cancel' // what Element Plus rejects with: 'cancel' or 'close'
    })
    expect(await confirmed('Revoke?', 'Revoke', 'Revoke', 'Cancel')).toBe(false)
  })
})
