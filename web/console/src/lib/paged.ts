/**
 * A console list's loading state: `load` runs a fetch with the spinner on and its failure in
 * words (`error`, for the page's alert); `usePagedList` adds the API's cursor paging on top, a
 * reload from the first page or "more" appended after what is shown.
 */
import { ref, type Ref } from 'vue'
import { errorText } from './errors'

type T = (key: string, values?: Record<string, unknown>) => string

export interface Page<Item> {
  items: Item[]
  next_cursor?: string | null
}

export interface Loading {
  loading: Ref<boolean>
  error: Ref<string>
  /** Run `work` with `loading` on; a failure leaves its words in `error` (cleared on each run). */
  load: (work: () => Promise<void>) => Promise<void>
}

export function useLoading(t: T): Loading {
  const loading = ref(false)
  const error = ref('')
  async function load(work: () => Promise<void>): Promise<void> {
    loading.value = true
    error.value = ''
    try {
      await work()
    } catch (e) {
      error.value = errorText(e, t)
    } finally {
      loading.value = false
    }
  }
  return { loading, error, load }
}

export interface PagedList<Item> extends Omit<Loading, 'load'> {
  items: Ref<Item[]>
  /** The cursor of the next page, null when the list is complete (hide "more"). */
  more: Ref<string | null>
  /** The first page again (filters changed, a record saved), or with `append` the next one. */
  reload: (append?: boolean) => Promise<void>
}

/** A cursor-paged list: `fetchPage(cursor)` asks for one page (undefined cursor: the first). */
export function usePagedList<Item>(fetchPage: (cursor: string | undefined) => Promise<Page<Item>>, t: T): PagedList<Item> {
  const items = ref([]) as Ref<Item[]>
  const more = ref<string | null>(null)
  const { loading, error, load } = useLoading(t)
  const reload = (append = false): Promise<void> =>
    load(async () => {
      const page = await fetchPage(append ? (more.value ?? undefined) : undefined)
      items.value = append ? [...items.value, ...page.items] : page.items
      more.value = page.next_cursor ?? null
    })
  return { items, more, loading, error, reload }
}

/**
 * Every page of a cursor-paged list (stopping once `cap` items are in), with the first page as
 * answered: a report's title and columns come with it.
 */
export async function readAll<P extends Page<unknown>>(
  fetchPage: (cursor: string | undefined) => Promise<P>,
  cap = Infinity,
): Promise<{ first: P; items: P['items'] }> {
  const first = await fetchPage(undefined)
  const items = [...first.items] as P['items']
  let cursor = first.next_cursor
  while (cursor && items.length < cap) {
    const page = await fetchPage(cursor)
    items.push(...page.items)
    cursor = page.next_cursor
  }
  return { first, items }
}
