/** MurmurHash3's finaliser: every input bit moves every output bit. */
function mix32(value: number): number {
  let h = value | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A request's seed (any safe integer) as llama.cpp's 32-bit one. node-llama-cpp turns a negative seed into 0 and
 * keeps the low 32 bits of a large one, so -5 and 0, or 1 and 2^32 + 1, sampled alike. Seeds from 0 to 2^32 − 1
 * stay themselves; the others are hashed with their high bits, so two of them meet only by chance.
 */
export function seed32(seed: number): number {
  const low = ((seed % 2 ** 32) + 2 ** 32) % 2 ** 32;
  const high = Math.floor(seed / 2 ** 32);
  return high === 0 ? low : mix32(low ^ mix32(high));
}
