import { describe, expect, it } from 'vitest'
import { ApiError, NetworkError } from '../../src/api/client'
import { readAll, useLoading, usePagedList, type Page } from '../src/lib/paged'

const t = (key: string, values?: Record<string, unknown>): string => (values ? `${key} ${JSON.stringify(values)}` : key)

/** A fake API: pages of letters by cursor, recording the cursors asked for. */
function pages(): { asked: (string | undefined)[]; fetch: (cursor: string | undefined) => Promise<Page<string>> } {
  const asked: (string | undefined)[] = []
  const book: Record<string, Page<string>> = {
    first: { items: ['a', 'b'], next_cursor: 'c2' },
    c2: { items: ['c', 'd'], next_cursor: 'c3' },
    c3: { items: ['e'], next_cursor: null },
  }
  return {
    asked,
    fetch: async (cursor) => {
      asked.push(cursor)
      return book[cursor ?? 'first']
    },
  }
}

describe('usePagedList', () => {
  it('loads the first page and keeps the next cursor', async () => {
    const api = pages()
    const list = usePagedList(api.fetch, t)
    await list.reload()
    expect(list.items.value).toEqual(['a', 'b'])
    expect(list.more.value).toBe('c2')
    expect(api.asked).toEqual([undefined])
    expect(list.loading.value).toBe(false)
  })

  it('appends the following pages with the cursor, then has no more', async () => {
    const api = pages()
    const list = usePagedList(api.fetch, t)
    await list.reload()
    await list.reload(true)
    await list.reload(true)
    expect(list.items.value).toEqual(['a', 'b', 'c', 'd', 'e'])
    expect(list.more.value).toBeNull()
    expect(api.asked).toEqual([undefined, 'c2', 'c3'])
  })

  it('starts over from the first page on a plain reload', async () => {
    const api = pages()
    const list = usePagedList(api.fetch, t)
    await list.reload()
    await list.reload(true)
    await list.reload()
    expect(list.items.value).toEqual(['a', 'b'])
    expect(list.more.value).toBe('c2')
    expect(api.asked).toEqual([undefined, 'c2', undefined])
  })

  it('treats a missing next_cursor as the end', async () => {
    const list = usePagedList(async () => ({ items: [1, 2] }), t)
    await list.reload()
    expect(list.more.value).toBeNull()
  })

  it('shows loading while the page is on its way', async () => {
    let answer: (p: Page<number>) => void = () => {}
    const list = usePagedList(() => new Promise<Page<number>>((r) => (answer = r)), t)
    const done = list.reload()
    expect(list.loading.value).toBe(true)
    answer({ items: [7], next_cursor: null })
    await done
    expect(list.loading.value).toBe(false)
    expect(list.items.value).toEqual([7])
  })

  it('keeps what it shows and says why when a page fails, and clears the error on the next try', async () => {
    let fail = false
    const list = usePagedList(async (cursor) => {
      if (fail) throw new ApiError(400, 'bad cursor')
      return { items: [cursor ?? 'x'], next_cursor: 'n' }
    }, t)
    await list.reload()
    fail = true
    await list.reload(true)
    expect(list.items.value).toEqual(['x'])
    expect(list.error.value).toBe('common.error {"detail":"bad cursor"}')
    expect(list.loading.value).toBe(false)
    fail = false
    await list.reload(true)
    expect(list.error.value).toBe('')
    expect(list.items.value).toEqual(['x', 'n'])
  })
})

describe('useLoading', () => {
  it('says offline for a network failure', async () => {
    const { load, error, loading } = useLoading(t)
    await load(async () => {
      throw new NetworkError('down')
    })
    expect(error.value).toBe('common.offline')
    expect(loading.value).toBe(false)
  })

  it('runs the work with loading on and no error', async () => {
    const { load, error, loading } = useLoading(t)
    let seen = false
    await load(async () => {
      seen = loading.value
    })
    expect(seen).toBe(true)
    expect(error.value).toBe('')
  })
})

describe('readAll', () => {
  it('reads every page in order and keeps the first page as answered', async () => {
    const api = pages()
    const { first, items } = await readAll(api.fetch)
    expect(items).toEqual(['a', 'b', 'c', 'd', 'e'])
    expect(first).toEqual({ items: ['a', 'b'], next_cursor: 'c2' })
    expect(api.asked).toEqual([undefined, 'c2', 'c3'])
  })

  it('stops asking once the cap is reached', async () => {
    const api = pages()
    const { items } = await readAll(api.fetch, 3)
    expect(items).toEqual(['a', 'b', 'c', 'd'])
    expect(api.asked).toEqual([undefined, 'c2'])
  })

  it('reads a single page when there is no cursor', async () => {
    const { items } = await readAll(async () => ({ items: [1], next_cursor: null }))
    expect(items).toEqual([1])
  })

  it('fails as the page fails', async () => {
    await expect(
      readAll(async (cursor) => {
        if (cursor) throw new ApiError(503, 'busy')
        return { items: [1], next_cursor: 'x' }
      }),
    ).rejects.toThrow('busy')
  })
})
