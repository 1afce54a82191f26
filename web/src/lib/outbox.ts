/**
 * The punch outbox: every punch is written here first, then sent through /punches/batch.
 *
 * Guarantees:
 * - no loss: a punch leaves the outbox only in the same IndexedDB transaction that records the
 *   server's answer for it (201 created or 200 already stored);
 * - no duplicate: the punch's `client_id` makes a resend idempotent on the server, so a tab
 *   closed while a request was in flight simply sends the same punch again next time;
 * - order: punches are sent oldest first (the outbox key is an auto-increment sequence);
 * - one sender at a time: a Web Lock (where available) and an in-page flag serialise syncs
 *   across tabs and triggers;
 * - 409 (the client_id exists with other content) marks the punch `failed`, 422 marks it
 *   `rejected`; both stay visible with the server's reason instead of being retried forever.
 */
import type { BatchItemOut, PunchIn } from '../api/types'
import type { Db, OutboxItem, SentRecord } from './db'

export const BATCH_SIZE = 100
const LOCK = 'fieldpunch-outbox'

/** Sends one batch; resolves with one result per punch, in order, or throws on no answer. */
export type SendBatch = (punches: PunchIn[]) => Promise<BatchItemOut[]>

/** Finishes a punch stored with a photo: uploads it and returns the signed body. */
export type Prepare = (item: OutboxItem) => Promise<PunchIn>

export interface SyncReport {
  sent: number
  answered: SentRecord[]
  failed: number
  rejected: number
  remaining: number
  error: unknown
}

export class Outbox {
  private running: Promise<SyncReport> | null = null

  constructor(private readonly db: Db) {}

  async add(userId: string, body: PunchIn, photo: Blob | null = null): Promise<OutboxItem> {
    const item: OutboxItem = {
      client_id: body.client_id,
      user_id: userId,
      body,
      state: 'pending',
      attempts: 0,
      created_at: new Date().toISOString(),
      problem: null,
      photo,
    }
    item.seq = await this.db.add('outbox', item)
    return item
  }

  async items(userId: string): Promise<OutboxItem[]> {
    const all = await this.db.getAllFromIndex('outbox', 'by_user', userId)
    return all.sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0))
  }

  async pending(userId: string): Promise<OutboxItem[]> {
    return (await this.items(userId)).filter((i) => i.state === 'pending')
  }

  async counts(userId: string): Promise<{ pending: number; failed: number; rejected: number }> {
    const items = await this.items(userId)
    return {
      pending: items.filter((i) => i.state === 'pending').length,
      failed: items.filter((i) => i.state === 'failed').length,
      rejected: items.filter((i) => i.state === 'rejected').length,
    }
  }

  async sent(userId: string): Promise<SentRecord[]> {
    return this.db.getAllFromIndex('sent', 'by_user', userId)
  }

  async answer(clientId: string): Promise<SentRecord | undefined> {
    return this.db.get('sent', clientId)
  }

  /** Forget a punch that the server refused (409/422) after the person has seen why. */
  async dismiss(seq: number): Promise<void> {
    const tx = this.db.transaction('outbox', 'readwrite')
    const item = await tx.store.get(seq)
    if (item && item.state !== 'pending') await tx.store.delete(seq)
    await tx.done
  }

  /** Send everything pending for `userId`, oldest first; one run at a time. */
  sync(userId: string, send: SendBatch, prepare?: Prepare): Promise<SyncReport> {
    if (this.running) return this.running
    const run = async () => {
      const locks = (globalThis.navigator as Navigator | undefined)?.locks
      if (locks?.request) return locks.request(LOCK, () => this.drain(userId, send, prepare))
      return this.drain(userId, send, prepare)
    }
    this.running = run().finally(() => {
      this.running = null
    })
    return this.running
  }

  private async drain(userId: string, send: SendBatch, prepare?: Prepare): Promise<SyncReport> {
    const report: SyncReport = {
      sent: 0,
      answered: [],
      failed: 0,
      rejected: 0,
      remaining: 0,
      error: null,
    }
    // Each punch is tried at most once per run: one the server could not answer (5xx) waits
    // for the next trigger instead of spinning here. Punches made during the run are included.
    const tried = new Set<number>()
    for (;;) {
      const batch = (await this.pending(userId))
        .filter((i) => !tried.has(i.seq!))
        .slice(0, BATCH_SIZE)
      if (batch.length === 0) break
      for (const item of batch) tried.add(item.seq!)
      // Photos first, in order; a punch whose photo cannot go up yet holds back those after it.
      const ready = await this.prepareAll(batch, prepare, report)
      const stop = ready.length < batch.length
      batch.length = ready.length
      if (batch.length === 0) break
      await this.bumpAttempts(batch)
      let results: BatchItemOut[]
      try {
        results = await send(batch.map((i) => i.body))
      } catch (error) {
        report.error = error
        break
      }
      if (results.length !== batch.length) {
        report.error = new Error(`server answered ${results.length} of ${batch.length} punches`)
        break
      }
      const answered = await this.record(batch, results)
      const unanswered = batch.length - answered.sent.length - answered.failed - answered.rejected
      if (unanswered > 0) report.error ??= new Error(`${unanswered} punches not answered; retrying later`)
      report.sent += batch.length
      report.answered.push(...answered.sent)
      report.failed += answered.failed
      report.rejected += answered.rejected
      if (stop) break
    }
    report.remaining = (await this.pending(userId)).length
    return report
  }

  private async prepareAll(
    batch: OutboxItem[],
    prepare: Prepare | undefined,
    report: SyncReport,
  ): Promise<OutboxItem[]> {
    const ready: OutboxItem[] = []
    for (const item of batch) {
      if (item.photo) {
        if (!prepare) break
        try {
          const body = await prepare(item)
          const done: OutboxItem = { ...item, body, photo: null }
          await this.db.put('outbox', done)
          Object.assign(item, done)
        } catch (error) {
          report.error ??= error
          break
        }
      }
      ready.push(item)
    }
    return ready
  }

  private async bumpAttempts(batch: OutboxItem[]): Promise<void> {
    const tx = this.db.transaction('outbox', 'readwrite')
    for (const item of batch) {
      const current = await tx.store.get(item.seq!)
      if (current) await tx.store.put({ ...current, attempts: current.attempts + 1 })
    }
    await tx.done
  }

  /** One transaction: answered punches leave the outbox exactly when their answer is stored. */
  private async record(
    batch: OutboxItem[],
    results: BatchItemOut[],
  ): Promise<{ sent: SentRecord[]; failed: number; rejected: number }> {
    const tx = this.db.transaction(['outbox', 'sent'], 'readwrite')
    const outbox = tx.objectStore('outbox')
    const sentStore = tx.objectStore('sent')
    const sent: SentRecord[] = []
    let failed = 0
    let rejected = 0
    const answeredAt = new Date().toISOString()
    for (const [i, item] of batch.entries()) {
      const result = results.find((r) => r.index === i) ?? results[i]
      if ((result.status === 201 || result.status === 200) && result.punch) {
        const record: SentRecord = {
          client_id: item.client_id,
          user_id: item.user_id,
          kind: item.body.kind,
          captured_at: item.body.captured_at,
          answered_at: answeredAt,
          http_status: result.status,
          punch: result.punch,
        }
        await sentStore.put(record)
        await outbox.delete(item.seq!)
        sent.push(record)
      } else if (result.status === 409 || result.status === 422) {
        const detail = (result.problem as { detail?: string } | null)?.detail ?? ''
        const state = result.status === 409 ? 'failed' : 'rejected'
        await outbox.put({ ...item, attempts: item.attempts + 1, state, problem: detail })
        if (state === 'failed') failed++
        else rejected++
      }
      // Any other status: the punch stays pending and is sent again on the next sync.
    }
    await tx.done
    return { sent, failed, rejected }
  }
}
