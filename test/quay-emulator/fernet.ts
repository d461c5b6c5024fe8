// Fernet tokens (https://github.com/fernet/spec), which Quay uses for its opaque `next_page` page tokens: they
// start with "gAAAAA", expire after two days, and a token that fails to decrypt silently means "first page".
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface Fernet {
  readonly encrypt: (plaintext: string, nowMs: number) => string;
  /** The plaintext, or undefined for a garbled, forged or expired token. */
  readonly decrypt: (token: string, ttlSeconds: number, nowMs: number) => string | undefined;
}

export const fernet = (key: Buffer = randomBytes(32)): Fernet => {
  const signingKey = key.subarray(0, 16);
  const encryptionKey = key.subarray(16, 32);
  const sign = (data: Buffer): Buffer => createHmac('sha256', signingKey).update(data).digest();
  return {
    encrypt: (plaintext, nowMs) => {
      const iv = randomBytes(16);
      const cipher = createCipheriv('aes-128-cbc', encryptionKey, iv);
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const header = Buffer.alloc(9);
      header[0] = 0x80;
      header.writeBigUInt64BE(BigInt(Math.floor(nowMs / 1000)), 1);
      const body = Buffer.concat([header, iv, ciphertext]);
      // Python's urlsafe_b64encode keeps the '=' padding.
      return Buffer.concat([body, sign(body)])
        .toString('base64')
        .replace(/\+/g, '-')
        .replace(/\//g, '_');
    },
    decrypt: (token, ttlSeconds, nowMs) => {
      const raw = Buffer.from(token.replace(/=+$/, ''), 'base64url');
      if (raw.length < 9 + 16 + 16 + 32 || raw[0] !== 0x80) return undefined;
      const body = raw.subarray(0, raw.length - 32);
      const mac = raw.subarray(raw.length - 32);
      if (!timingSafeEqual(mac, sign(body))) return undefined;
      const issuedAt = Number(body.readBigUInt64BE(1));
      if (issuedAt + ttlSeconds < nowMs / 1000) return undefined;
      try {
        const decipher = createDecipheriv('aes-128-cbc', encryptionKey, body.subarray(9, 25));
        return Buffer.concat([decipher.update(body.subarray(25)), decipher.final()]).toString('utf8');
      } catch {
        return undefined;
      }
    },
  };
};
