// Seeded randomness, so a run with a given seed hands out the same tokens, ids and faults every time.

export interface Random {
  /** A float in [0, 1). */
  readonly next: () => number;
  readonly bytes: (n: number) => Buffer;
  /** `length` characters of [A-Z0-9], the alphabet of Quay's robot tokens, OAuth tokens and passwords. */
  readonly token: (length: number) => string;
  readonly uuid4: () => string;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** mulberry32: small, fast and good enough for test data. */
export const seededRandom = (seed: number): Random => {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(next() * 256)));
  return {
    next,
    bytes,
    token: (length) => Array.from({ length }, () => ALPHABET[Math.floor(next() * ALPHABET.length)]).join(''),
    uuid4: () => {
      const b = bytes(16);
      b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
      b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
      const hex = b.toString('hex');
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    },
  };
};
