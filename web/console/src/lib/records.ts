/**
 * A list page's record dialog and its delete: `useEditor` opens the dialog on a record (or on
 * none, to create one) and reloads the list once it is saved; `askAndDelete` asks first, deletes,
 * says the result and reloads. Used by the shift and attendance group pages.
 */
import { ElMessage } from 'element-plus'
import { reactive } from 'vue'
import { confirmed } from './confirm'
import { errorText } from './errors'

type T = (key: string, values?: Record<string, unknown>) => string

export interface Editor<R> {
  editing: { open: boolean; record: R | null }
  open: (record: R | null) => void
  saved: () => Promise<void>
}

export function useEditor<R>(reload: () => Promise<void>): Editor<R> {
  const editing = reactive({ open: false, record: null }) as { open: boolean; record: R | null }
  return {
    editing,
    open(record) {
      editing.record = record
      editing.open = true
    },
    async saved() {
      editing.open = false
      await reload()
    },
  }
}

export interface DeleteWords {
  question: string
  title: string
  cancel: string
  done: string
}

/** Ask, then `remove()`; a refusal (a 409: still in use) is said in the server's words. */
export async function askAndDelete(words: DeleteWords, remove: () => Promise<unknown>, reload: () => Promise<void>, t: T): Promise<void> {
  if (!(await confirmed(words.question, words.title, words.title, words.cancel))) return
  try {
    await remove()
    ElMessage.success(words.done)
    await reload()
  } catch (e) {
    ElMessage.error({ message: errorText(e, t), duration: 6000 })
  }
}
