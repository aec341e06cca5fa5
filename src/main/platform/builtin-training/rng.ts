/** A seeded random stream (mulberry32): the same seed gives the same split, shuffles and initial weights. */
export type Random = () => number;

export function seededRandom(...seedParts: number[]): Random {
  // Mixing the parts (seed, epoch, ...) gives independent streams that need no stored state to be recreated.
  let s = 0x9e3779b9;
  for (const part of seedParts) s = Math.imul(s ^ (part >>> 0), 0x85ebca6b) ^ (s >>> 13);
  s >>>= 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher-Yates in place. */
export function shuffle<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

export function shuffledIndices(count: number, random: Random): number[] {
  return shuffle(
    Array.from({ length: count }, (_, i) => i),
    random,
  );
}

/** Standard normal samples (Box-Muller). */
export function normalSample(random: Random): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
