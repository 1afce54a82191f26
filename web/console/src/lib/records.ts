/**
 * A list page's record dialog and its delete: `useEditor` opens the dialog on a record (or on
 * none, to create one) and reloads the list once it is saved; `useSubmit` sends the dialog's form
 * and keeps a refusal's errors by field; `askAndDelete` asks first, deletes, says the result and
 * reloads. Used by the shift and attendance group pages.
 */
import { ElMessage } from 'element-plus'
import { reactive, ref, type Ref } from 'vue'
import { confirmed } from './confirm'
import { errorText } from './errors'
import { errorAt, refusal } from './rules'

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

export interface Submit {
  saving: Ref<boolean>
  /** A refusal's errors by field (`periods.0.end`), for under each field. */
  errors: Ref<Record<string, string>>
  /** What no field of the form shows, for above the buttons. */
  error: Ref<string>
  /** The error at or under a field. */
  at: (field: string) => string
  /** Send; the saved record, or null when refused. `fields` are those the form shows. */
  submit: <R>(send: () => Promise<R>, fields: readonly string[], done: string) => Promise<R | null>
}

export function useSubmit(t: T): Submit {
  const saving = ref(false)
  const errors = ref<Record<string, string>>({})
  const error = ref('')
  async function submit<R>(send: () => Promise<R>, fields: readonly string[], done: string): Promise<R | null> {
    saving.value = true
    errors.value = {}
    error.value = ''
    try {
      const saved = await send()
      ElMessage.success(done)
      return saved
    } catch (e) {
      const refused = refusal(e, fields, t)
      errors.value = refused.errors
      error.value = refused.message
      return null
    } finally {
      saving.value = false
    }
  }
  return { saving, errors, error, at: (field) => errorAt(errors.value, field), submit }
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
