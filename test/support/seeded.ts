// A small seeded PRNG (mulberry32) for reproducible shuffles and fuzz cases: print the seed, rerun with it.

export interface Seeded {
  readonly seed: number;
  /** Uniform in [0, 1). */
  readonly next: () => number;
  /** An integer in [0, n). */
  readonly int: (n: number) => number;
  readonly pick: <A>(items: readonly A[]) => A;
  /** A shuffled copy (Fisher–Yates). */
  readonly shuffle: <A>(items: readonly A[]) => A[];
}

export const seeded = (seed: number): Seeded => {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return {
    seed,
    next,
    int,
    pick: <A>(items: readonly A[]): A => {
      if (items.length === 0) throw new Error('pick from nothing');
      return items[int(items.length)] as A;
    },
    shuffle: <A>(items: readonly A[]): A[] => {
      const out = [...items];
      for (let i = out.length - 1; i > 0; i--) {
        const j = int(i + 1);
        [out[i], out[j]] = [out[j] as A, out[i] as A];
      }
      return out;
    },
  };
};

/** The seed from FT_SEED if set (to replay a failure), else a fresh one. */
export const seedFromEnv = (name = 'FT_SEED'): number => {
  const raw = process.env[name];
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : Math.floor(Math.random() * 2 ** 31);
};
