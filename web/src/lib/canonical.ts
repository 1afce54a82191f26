/**
 * RFC 8785 JSON Canonicalization Scheme (JCS): the exact bytes a punch signature covers.
 *
 * - object members sorted by their names' UTF-16 code units (what `Array.prototype.sort` does);
 * - numbers in ECMAScript shortest round-trip form (what `JSON.stringify` does for a number);
 * - strings escaped as `JSON.stringify` escapes them (only `"`, `\` and control characters);
 * - no whitespace; `undefined` members are left out, as `JSON.stringify` leaves them out.
 *
 * The server computes the same bytes with Python's `rfc8785` (fieldpunch.kit.canonical), and
 * web/tests/vectors.json holds shared vectors that both test suites check.
 */
export function canonicalize(value: unknown): string {
  if (value === null) return 'null'
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false'
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('JSON has no NaN or Infinity')
      return JSON.stringify(value)
    case 'string':
      return JSON.stringify(value)
    case 'object': {
      if (Array.isArray(value)) {
        return `[${value.map((v) => canonicalize(v === undefined ? null : v)).join(',')}]`
      }
      const record = value as Record<string, unknown>
      const keys = Object.keys(record)
        .filter((k) => record[k] !== undefined)
        .sort()
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalize(record[k])}`).join(',')}}`
    }
    default:
      throw new TypeError(`cannot canonicalize a ${typeof value}`)
  }
}

export function canonicalBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalize(value))
}
