/** Build, sign and queue a punch: everything a tap does before any network is touched. */
import type { LocationIn, PunchIn, PunchKind } from '../api/types'
import type { Outbox } from './outbox'
import { signCanonical } from './signing'
import { proofNow, type Clock, monotonic } from './timeproof'

export interface Position {
  lat: number
  lon: number
  accuracy_m: number
  altitude_m?: number | null
  speed_mps?: number | null
  bearing_deg?: number | null
  /** When the fix was taken (ms since epoch). */
  at: number
}

export interface PunchExtras {
  customer_id?: string | null
  /** The planned visit a check-in or check-out is for (today's plan knows it). */
  visit_id?: string | null
  note?: string
  photo_id?: string | null
  /** A photo to upload at sync time; the punch is signed once it carries the photo's id. */
  photo?: Blob | null
}

export interface Signer {
  device_id: string
  privateKey: CryptoKey
}

/** A browser position is already a fused estimate (GPS, Wi-Fi, cell): its source says so. */
export const BROWSER_SOURCE = 'fused'

function newClientId(): string {
  return crypto.randomUUID()
}

export function locationOf(pos: Position): LocationIn {
  const loc: LocationIn = {
    lat: pos.lat,
    lon: pos.lon,
    accuracy_m: Math.max(0.1, Math.round(pos.accuracy_m * 10) / 10),
    crs: 'wgs84',
    source: BROWSER_SOURCE,
  }
  if (pos.altitude_m != null && Number.isFinite(pos.altitude_m)) {
    loc.altitude_m = Math.round(pos.altitude_m * 10) / 10
  }
  if (pos.speed_mps != null && Number.isFinite(pos.speed_mps) && pos.speed_mps >= 0) {
    loc.speed_mps = Math.round(pos.speed_mps * 100) / 100
  }
  if (pos.bearing_deg != null && Number.isFinite(pos.bearing_deg)) {
    loc.bearing_deg = Math.round(pos.bearing_deg * 10) / 10
  }
  return loc
}

/** The punch body, unsigned: only fields with a value are sent. */
export function draftPunch(
  userId: string,
  kind: PunchKind,
  pos: Position,
  deviceId: string,
  extras: PunchExtras = {},
  opts: { online: boolean; now?: Date; clock?: Clock } = { online: true },
): PunchIn {
  const now = opts.now ?? new Date()
  const body: PunchIn = {
    client_id: newClientId(),
    kind,
    captured_at: now.toISOString(),
    location: locationOf(pos),
    offline: !opts.online,
    device_id: deviceId,
  }
  const proof = proofNow(userId, opts.clock ?? monotonic, () => now.getTime())
  if (proof) body.time_proof = proof
  if (extras.customer_id) body.customer_id = extras.customer_id
  if (extras.visit_id) body.visit_id = extras.visit_id
  if (extras.note?.trim()) body.note = extras.note.trim()
  if (extras.photo_id) body.photo_id = extras.photo_id
  return body
}

/** Sign a body (the signature covers every field but `signature`). */
export async function signPunch(body: PunchIn, privateKey: CryptoKey): Promise<PunchIn> {
  const { signature: _old, ...unsignedBody } = body
  return { ...unsignedBody, signature: await signCanonical(privateKey, unsignedBody) }
}

/** The punch body, signed. */
export async function buildPunch(
  userId: string,
  kind: PunchKind,
  pos: Position,
  signer: Signer,
  extras: PunchExtras = {},
  opts: { online: boolean; now?: Date; clock?: Clock } = { online: true },
): Promise<PunchIn> {
  return signPunch(draftPunch(userId, kind, pos, signer.device_id, extras, opts), signer.privateKey)
}

/**
 * Capture → sign → store: the punch is safe in IndexedDB before this resolves. With a photo,
 * the punch is stored with the photo and signed at sync, after the upload names the photo.
 */
export async function capture(
  outbox: Outbox,
  userId: string,
  kind: PunchKind,
  pos: Position,
  signer: Signer,
  extras: PunchExtras = {},
  opts: { online: boolean; now?: Date; clock?: Clock } = { online: true },
): Promise<PunchIn> {
  if (extras.photo) {
    const draft = draftPunch(userId, kind, pos, signer.device_id, extras, opts)
    await outbox.add(userId, draft, extras.photo)
    return draft
  }
  const body = await buildPunch(userId, kind, pos, signer, extras, opts)
  await outbox.add(userId, body)
  return body
}

/** The outbox's `prepare`: upload the photo, put its id in the punch, sign it. */
export function photoPreparer(
  upload: (photo: Blob) => Promise<{ id: string }>,
  privateKey: (userId: string) => Promise<CryptoKey>,
  refused: (error: unknown) => boolean,
): (item: { user_id: string; body: PunchIn; photo?: Blob | null }) => Promise<PunchIn> {
  return async (item) => {
    let photoId: string | null = null
    try {
      if (item.photo) photoId = (await upload(item.photo)).id
    } catch (error) {
      // A photo the server will never take (not an image, too large) must not hold the punch
      // back forever: the punch goes without it. Anything else (offline, 5xx) retries later.
      if (!refused(error)) throw error
    }
    const body = { ...item.body }
    if (photoId) body.photo_id = photoId
    return signPunch(body, await privateKey(item.user_id))
  }
}
