/**
 * Visit records queued behind their punches: the form answers, outcome, note and next
 * follow-up a rep fills in at check-out, kept in IndexedDB and sent as `PATCH /visits/{id}` once
 * the visit exists on the server, so a check-out made offline keeps its form.
 *
 * - after the punches: a record waits while its check-in or check-out is still in the outbox;
 * - its visit: the plan the check-out named, else the visit the server made from the check-in
 *   (found by the check-in's or check-out's punch id; the server pairs punches with visits
 *   within seconds, so a record may wait a round or two);
 * - photos of photo fields are uploaded first, each once (its id is kept as soon as it is up);
 * - exactly once in effect: a PATCH replaces the record, so sending it again changes nothing;
 *   a record leaves the queue only after the server took it;
 * - a refusal (422: a required field the form gained since, 404, 409: cancelled) marks it
 *   `rejected` with the reason instead of retrying forever; no answer keeps it pending.
 */
import type { Db, RecordItem } from './db'

export type PunchState = 'pending' | 'failed' | 'rejected' | 'sent' | 'unknown'

export interface RecordDeps {
  /** Where a punch is: still in the outbox, refused, or answered (with its server id). */
  punch(clientId: string): Promise<{ state: PunchState; punch_id: string | null }>
  /** The visit a check-in / check-out made (by their server ids), or null while not paired. */
  findVisit(item: RecordItem, inPunchId: string | null, outPunchId: string | null): Promise<string | null>
  upload(photo: Blob): Promise<{ id: string }>
  patch(visitId: string, body: RecordItem['patch']): Promise<void>
  /** A final refusal (4xx but 408/429): its reason; null for "try again later". */
  refusal(error: unknown): string | null
}

export interface RecordReport {
  sent: number
  waiting: number
  rejected: number
  error: unknown
}

export class RecordQueue {
  private running: Promise<RecordReport> | null = null

  constructor(private readonly db: Db) {}

  async add(item: Omit<RecordItem, 'seq' | 'state' | 'attempts' | 'problem' | 'created_at'>): Promise<RecordItem> {
    const full: RecordItem = {
      ...item,
      state: 'pending',
      attempts: 0,
      problem: null,
      created_at: new Date().toISOString(),
    }
    full.seq = await this.db.add('records', full)
    return full
  }

  async items(userId: string): Promise<RecordItem[]> {
    const all = await this.db.getAllFromIndex('records', 'by_user', userId)
    return all.sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0))
  }

  async pending(userId: string): Promise<RecordItem[]> {
    return (await this.items(userId)).filter((i) => i.state === 'pending')
  }

  async dismiss(seq: number): Promise<void> {
    const item = await this.db.get('records', seq)
    if (item && item.state !== 'pending') await this.db.delete('records', seq)
  }

  /** Send what can go now, oldest first; one run at a time. */
  sync(userId: string, deps: RecordDeps): Promise<RecordReport> {
    this.running ??= this.drain(userId, deps).finally(() => {
      this.running = null
    })
    return this.running
  }

  private async drain(userId: string, deps: RecordDeps): Promise<RecordReport> {
    const report: RecordReport = { sent: 0, waiting: 0, rejected: 0, error: null }
    for (const item of await this.pending(userId)) {
      try {
        const outcome = await this.one(item, deps)
        if (outcome === 'sent') report.sent++
        else if (outcome === 'rejected') report.rejected++
        else report.waiting++
      } catch (error) {
        const reason = deps.refusal(error)
        if (reason === null) {
          report.error = error
          report.waiting++
          break // no answer: the next trigger tries again, in order
        }
        await this.reject(item, reason)
        report.rejected++
      }
    }
    return report
  }

  private async one(item: RecordItem, deps: RecordDeps): Promise<'sent' | 'waiting' | 'rejected'> {
    const out = await deps.punch(item.out_client_id)
    const inn = item.in_client_id ? await deps.punch(item.in_client_id) : null
    if (out.state === 'pending' || inn?.state === 'pending') return 'waiting'
    let visitId = item.visit_id
    if (!visitId) {
      if (out.state === 'failed' || out.state === 'rejected') {
        await this.reject(item, 'check-out refused')
        return 'rejected'
      }
      visitId = await deps.findVisit(item, item.in_punch_id ?? inn?.punch_id ?? null, out.punch_id)
      if (!visitId) return 'waiting'
    }
    await this.bump(item)
    for (const [key, photo] of Object.entries(item.photos)) {
      const { id } = await deps.upload(photo)
      const { [key]: _done, ...rest } = item.photos
      item.photos = rest
      item.patch = { ...item.patch, answers: { ...item.patch.answers, [key]: id } }
      await this.db.put('records', item) // uploaded once, even if the PATCH waits
    }
    await deps.patch(visitId, item.patch)
    await this.db.delete('records', item.seq!)
    return 'sent'
  }

  private async bump(item: RecordItem): Promise<void> {
    item.attempts += 1
    await this.db.put('records', item)
  }

  private async reject(item: RecordItem, reason: string): Promise<void> {
    await this.db.put('records', { ...item, state: 'rejected', problem: reason })
  }
}
