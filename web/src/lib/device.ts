/** The device key of a person on this browser: made once, kept in IndexedDB, enrolled once. */
import type { Db, DeviceKeyRecord } from './db'
import { fingerprint, newDeviceKey, publicKeySpki } from './signing'

export type Enrol = (publicKey: string) => Promise<{ id: string }>

/** The stored key for `userId`, or a new non-extractable one (not yet enrolled). */
export async function deviceKey(db: Db, userId: string): Promise<DeviceKeyRecord> {
  const existing = await db.get('keys', userId)
  if (existing) return existing
  const pair = await newDeviceKey()
  const publicKey = await publicKeySpki(pair.publicKey)
  const record: DeviceKeyRecord = {
    user_id: userId,
    pair,
    public_key: publicKey,
    fingerprint: await fingerprint(publicKey),
    device_id: null,
    created_at: new Date().toISOString(),
  }
  // `add` fails if another tab stored a key meanwhile: then that key is the one.
  try {
    await db.add('keys', record)
    return record
  } catch {
    return (await db.get('keys', userId))!
  }
}

/** Enrol the key (POST /devices is idempotent for the same key) and remember the device id. */
export async function ensureEnrolled(db: Db, userId: string, enrol: Enrol): Promise<DeviceKeyRecord> {
  const record = await deviceKey(db, userId)
  if (record.device_id) return record
  const device = await enrol(record.public_key)
  const enrolled = { ...record, device_id: device.id }
  await db.put('keys', enrolled)
  return enrolled
}
