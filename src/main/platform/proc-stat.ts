import { readFileSync } from 'node:fs';

/** Linux's id of this boot: with a start time, it tells a process apart from one with the same pid after a reboot. */
export function readBootId(): string {
  return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
}

export interface ProcessStat {
  /** proc(5) field 3: R, S, D, Z (ended, waiting to be reaped)… */
  state: string;
  /** `<boot id>:<start time in clock ticks since boot>` (field 22). */
  startTime: string;
}

/** A process's state and start time from /proc, or null when it is gone. */
export function readProcessStat(pid: number, bootId: string): ProcessStat | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may hold spaces or parentheses itself.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const startTicks = fields[19]; // field 22
  return state === undefined || startTicks === undefined ? null : { state, startTime: `${bootId}:${startTicks}` };
}
