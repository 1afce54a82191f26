/** The app's IndexedDB: device keys, the punch outbox, recent answers and cached lists. */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb'
import type { PunchIn, PunchOut } from '../api/types'

export const DB_NAME = 'fieldpunch'
const VERSION = 2

export interface DeviceKeyRecord {
  user_id: string
  /** privateKey is non-extractable; IndexedDB keeps the handle, never the key bytes. */
  pair: CryptoKeyPair
  public_key: string
  fingerprint: string
  device_id: string | null
  created_at: string
}

export type OutboxState = 'pending' | 'failed' | 'rejected'

export interface OutboxItem {
  /** Auto-increment: the order punches were made in, which is the order they are sent in. */
  seq?: number
  client_id: string
  user_id: string
  body: PunchIn
  state: OutboxState
  attempts: number
  created_at: string
  /** Why a punch is `failed` (409: the client_id holds other content) or `rejected` (422). */
  problem?: string | null
  /**
   * A photo still to upload. The punch is then stored unsigned: at sync the photo is uploaded,
   * its id goes into the body, and the body is signed before it is sent (same key, same
   * captured_at and time proof: nothing that dates or places the punch changes).
   */
  photo?: Blob | null
}

export interface SentRecord {
  client_id: string
  user_id: string
  kind: string
  captured_at: string
  answered_at: string
  http_status: number
  punch: PunchOut
}

/**
 * A visit's record (form answers, outcome, note, next follow-up) made at check-out, waiting to
 * be sent as `PATCH /visits/{id}` after its punches (lib/answers.ts).
 */
export interface RecordItem {
  seq?: number
  user_id: string
  /** The planned visit, when the check-out was of one; else found from the check-in punch. */
  visit_id: string | null
  customer_id: string
  /** The check-in and check-out punches of this visit (client ids), to find an unplanned one. */
  in_client_id: string | null
  in_punch_id: string | null
  out_client_id: string
  /** Local date of the check-out (YYYY-MM-DD): where to look for the visit. */
  day: string
  patch: {
    note?: string
    outcome?: string | null
    next_follow_up?: string | null
    answers?: Record<string, string | number>
  }
  /** Photo fields still to upload: field key → image; each id joins `patch.answers` once up. */
  photos: Record<string, Blob>
  state: 'pending' | 'rejected'
  attempts: number
  problem: string | null
  created_at: string
}

export interface FieldpunchDB extends DBSchema {
  keys: { key: string; value: DeviceKeyRecord }
  outbox: {
    key: number
    value: OutboxItem
    indexes: { by_client: string; by_user: string }
  }
  sent: { key: string; value: SentRecord; indexes: { by_user: string } }
  cache: { key: string; value: { key: string; at: string; value: unknown } }
  records: { key: number; value: RecordItem; indexes: { by_user: string } }
}

export type Db = IDBPDatabase<FieldpunchDB>

let opened: Promise<Db> | null = null

export function openDb(name: string = DB_NAME): Promise<Db> {
  if (name !== DB_NAME) return open(name)
  opened ??= open(name)
  return opened
}

function open(name: string): Promise<Db> {
  return openDB<FieldpunchDB>(name, VERSION, {
    upgrade(db, oldVersion) {
      if (oldVersion < 1) {
        db.createObjectStore('keys', { keyPath: 'user_id' })
        const outbox = db.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true })
        outbox.createIndex('by_client', 'client_id', { unique: true })
        outbox.createIndex('by_user', 'user_id')
        const sent = db.createObjectStore('sent', { keyPath: 'client_id' })
        sent.createIndex('by_user', 'user_id')
        db.createObjectStore('cache', { keyPath: 'key' })
      }
      if (oldVersion < 2) {
        // Version 2: visit records (form answers) queued behind their punches.
        const records = db.createObjectStore('records', { keyPath: 'seq', autoIncrement: true })
        records.createIndex('by_user', 'user_id')
      }
    },
  })
}

export async function cacheGet<T>(db: Db, key: string): Promise<{ at: string; value: T } | null> {
  const row = await db.get('cache', key)
  return row ? { at: row.at, value: row.value as T } : null
}

export async function cachePut(db: Db, key: string, value: unknown): Promise<void> {
  await db.put('cache', { key, at: new Date().toISOString(), value })
}
