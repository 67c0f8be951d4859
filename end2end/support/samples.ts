// Test data shared by the Chromium and Firefox journeys.

/** `n` bytes that are not text (xorshift), so a byte-for-byte match means real decryption. */
export function sampleBytes(n: number): Buffer {
  const b = Buffer.alloc(n);
  let x = 2463534242;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}
