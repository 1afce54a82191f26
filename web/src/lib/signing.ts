/**
 * Device keys and punch signatures with WebCrypto.
 *
 * The private key is created NON-extractable: its bytes can never be read by script, only
 * used to sign; the CryptoKey object itself is kept in IndexedDB (structured clone keeps the
 * handle, not the bytes). The public half is exported as SPKI DER, base64url, for enrolment.
 */
import { b64urlDecode, b64urlEncode } from './b64url'
import { canonicalBytes } from './canonical'

const ALGORITHM: EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' }
const SIGN: EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' }

export async function newDeviceKey(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(ALGORITHM, false, ['sign', 'verify'])
}

export async function publicKeySpki(key: CryptoKey): Promise<string> {
  return b64urlEncode(await crypto.subtle.exportKey('spki', key))
}

export async function fingerprint(spkiB64url: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', b64urlDecode(spkiB64url) as BufferSource)
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('')
}

/** The object without `signature`: what the signature covers (device_id included). */
export function unsigned<T extends object>(body: T): Omit<T, 'signature'> {
  const { signature: _ignored, ...rest } = body as T & { signature?: unknown }
  return rest
}

/** base64url of the 64-byte r‖s (IEEE P1363) ECDSA P-256/SHA-256 signature over JCS bytes. */
export async function signCanonical(privateKey: CryptoKey, body: object): Promise<string> {
  const bytes = canonicalBytes(unsigned(body))
  const sig = await crypto.subtle.sign(SIGN, privateKey, bytes as BufferSource)
  return b64urlEncode(sig)
}

export async function verifyCanonical(
  spkiB64url: string,
  body: object,
  signatureB64url: string,
): Promise<boolean> {
  const key = await crypto.subtle.importKey(
    'spki',
    b64urlDecode(spkiB64url) as BufferSource,
    ALGORITHM,
    false,
    ['verify'],
  )
  return crypto.subtle.verify(
    SIGN,
    key,
    b64urlDecode(signatureB64url) as BufferSource,
    canonicalBytes(unsigned(body)) as BufferSource,
  )
}
