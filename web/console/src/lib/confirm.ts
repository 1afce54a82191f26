/** Asking before a step that cannot be taken back (delete, revoke, deactivate, leave unsaved changes). */
import { ElMessageBox } from 'element-plus'

/**
 * A warning box titled `title` whose buttons name the choice (删除 / 取消, 离开 / 留下): true once
 * confirmed, false when cancelled or closed.
 */
export async function confirmed(message: string, title: string, action: string, cancel: string): Promise<boolean> {
  try {
    await ElMessageBox.confirm(message, title, { type: 'warning', confirmButtonText: action, cancelButtonText: cancel })
    return true
  } catch {
    return false
  }
}
