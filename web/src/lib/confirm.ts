/**
 * "Are you sure?" before a punch of the opposite kind right after the last one (a double tap).
 *
 * The dialog sits at the bottom of the screen, away from the punch button, with large buttons:
 * a stray extra tap where the punch button was lands on the overlay, which does nothing.
 */
import { showConfirmDialog } from 'vant'
import 'vant/es/dialog/style/index'
import type { PunchKind } from '../api/types'
import type { T } from './messages'

export async function confirmPunch(t: T, kind: PunchKind, last: PunchKind, seconds: number): Promise<boolean> {
  const name = t(`punch.${kind}`)
  try {
    await showConfirmDialog({
      title: t('punch.confirm.title', { kind: name }),
      message: t('punch.confirm.message', { s: seconds, last: t(`punch.${last}`) }),
      confirmButtonText: t('punch.confirm.ok', { kind: name }),
      cancelButtonText: t('punch.confirm.cancel'),
      className: 'fp-confirm',
      closeOnClickOverlay: false,
      closeOnPopstate: true,
      allowHtml: false,
    })
    return true
  } catch {
    return false // cancelled
  }
}
