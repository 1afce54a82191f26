import { describe, expect, it } from 'vitest'
import { b64urlDecode, b64urlEncode } from '../src/lib/b64url'
import { canonicalize } from '../src/lib/canonical'
import {
  fingerprint,
  newDeviceKey,
  publicKeySpki,
  signCanonical,
  unsigned,
  verifyCanonical,
} from '../src/lib/signing'
import vectors from './vectors.json'

describe('RFC 8785 canonical JSON', () => {
  it.each(vectors.vectors.map((v, i) => [i, v] as const))(
    'vector %i: equals the bytes Python rfc8785 produced',
    (_i, v) => {
      expect(canonicalize(v.punch)).toBe(v.canonical)
    },
  )

  it('sorts keys by UTF-16 code units and drops undefined members', () => {
    expect(canonicalize({ b: 1, a: undefined, '\u20ac': 1, '\r': 2, '1': 3, é: 4 })).toBe(
      '{"\\r":2,"1":3,"b":1,"é":4,"€":1}',
    )
    // Surrogate pairs sort by code unit, not code point (RFC 8785 §3.2.3).
    expect(canonicalize({ '\ud83d\ude00': 1, '\uffff': 2 })).toBe('{"😀":1,"\uffff":2}')
  })

  it('writes numbers in ECMAScript shortest form and rejects NaN and Infinity', () => {
    expect(canonicalize([1.0, -0, 1e21, 1e-7, 0.000001, 2 ** 53, 4.5e-7])).toBe(
      '[1,0,1e+21,1e-7,0.000001,9007199254740992,4.5e-7]',
    )
    expect(() => canonicalize({ x: NaN })).toThrow(TypeError)
    expect(() => canonicalize({ x: Infinity })).toThrow(TypeError)
  })
})

describe('ECDSA P-256 signatures', () => {
  it.each(vectors.vectors.map((v, i) => [i, v] as const))(
    'vector %i: WebCrypto verifies the signature Python made',
    async (_i, v) => {
      expect(await verifyCanonical(vectors.public_key, v.punch, v.signature)).toBe(true)
      const tampered = structuredClone(v.punch) as { kind: string }
      tampered.kind = 'clock_out'
      expect(await verifyCanonical(vectors.public_key, tampered, v.signature)).toBe(false)
    },
  )

  it('signs with a non-extractable key; the signature is 64-byte r‖s over the body without `signature`', async () => {
    const pair = await newDeviceKey()
    expect(pair.privateKey.extractable).toBe(false)
    await expect(crypto.subtle.exportKey('pkcs8', pair.privateKey)).rejects.toThrow()
    const spki = await publicKeySpki(pair.publicKey)
    expect(b64urlDecode(spki).length).toBe(91) // P-256 SPKI DER
    const body = { ...vectors.vectors[0].punch, signature: 'x'.repeat(86) }
    const sig = await signCanonical(pair.privateKey, body)
    expect(b64urlDecode(sig).length).toBe(64)
    expect(sig).toMatch(/^[A-Za-z0-9_-]{86}$/)
    expect(await verifyCanonical(spki, { ...unsigned(body), signature: sig }, sig)).toBe(true)
    expect(await verifyCanonical(spki, { ...unsigned(body), note: 'changed' }, sig)).toBe(false)
    expect(await fingerprint(spki)).toMatch(/^[0-9a-f]{64}$/)
  })

  it('base64url round-trips without padding', () => {
    for (let n = 0; n < 10; n++) {
      const bytes = crypto.getRandomValues(new Uint8Array(n * 7 + 1))
      const text = b64urlEncode(bytes)
      expect(text).not.toMatch(/[=+/]/)
      expect([...b64urlDecode(text)]).toEqual([...bytes])
    }
  })
})
