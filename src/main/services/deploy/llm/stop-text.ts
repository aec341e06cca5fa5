/**
 * Releases generated text piece by piece while watching for stop strings, so that a stream never shows a stop
 * string (nor the start of one that may still complete) and the streamed pieces always concatenate to the
 * non-streamed text.
 *
 * Text that might be the beginning of a stop string is held back until the next piece decides it; with
 * `trimTrailingWhitespace` (JSON grammars end in whitespace that is not part of the answer) trailing whitespace is
 * held too and dropped at the end.
 */
export class StopTextBuffer {
  private readonly stops: readonly string[];
  private pending = '';
  private done = false;

  constructor(
    stops: readonly string[],
    private readonly trimTrailingWhitespace = false,
  ) {
    this.stops = stops.filter((stop) => stop.length > 0);
  }

  /** Whether a stop string was seen; nothing more is released after it. */
  get stopped(): boolean {
    return this.done;
  }

  /** Adds generated text; returns what can be shown now. */
  push(text: string): string {
    if (this.done || text.length === 0) return '';
    this.pending += text;
    const at = this.firstStopIndex();
    if (at >= 0) {
      this.done = true;
      const before = this.pending.slice(0, at);
      this.pending = '';
      return this.trimTrailingWhitespace ? before.trimEnd() : before;
    }
    const keep = this.heldLength();
    const out = this.pending.slice(0, this.pending.length - keep);
    this.pending = this.pending.slice(this.pending.length - keep);
    return out;
  }

  /** At the end of generation: what was held back and is not a stop string. */
  flush(): string {
    if (this.done) return '';
    const out = this.trimTrailingWhitespace ? this.pending.trimEnd() : this.pending;
    this.pending = '';
    return out;
  }

  /**
   * Where the stop string that completes first begins (the longest of those ending at the same place), or -1.
   * Completion order is what a stream sees, so a one-shot text is cut at the same place as any split of it.
   */
  private firstStopIndex(): number {
    let bestStart = -1;
    let bestEnd = Infinity;
    for (const stop of this.stops) {
      const at = this.pending.indexOf(stop);
      if (at < 0) continue;
      const end = at + stop.length;
      if (end < bestEnd || (end === bestEnd && at < bestStart)) {
        bestStart = at;
        bestEnd = end;
      }
    }
    return bestStart;
  }

  /** The length of the pending tail that may still turn into a stop string, with the whitespace before it when trimming. */
  private heldLength(): number {
    let keep = 0;
    for (const stop of this.stops) {
      const max = Math.min(stop.length - 1, this.pending.length);
      for (let n = max; n > keep; n--) {
        if (this.pending.endsWith(stop.slice(0, n))) {
          keep = n;
          break;
        }
      }
    }
    if (this.trimTrailingWhitespace) {
      // Whitespace just before a held stop prefix becomes trailing if the stop completes, so it is held as well.
      const released = this.pending.slice(0, this.pending.length - keep);
      keep += released.length - released.trimEnd().length;
    }
    return keep;
  }
}
