// pino-roll ships no types; this covers the options AI-DOS uses.
declare module 'pino-roll' {
  import type { SonicBoom } from 'sonic-boom';
  interface PinoRollOptions {
    file: string;
    extension?: string;
    size?: string | number;
    frequency?: string | number;
    limit?: { count: number };
    mkdir?: boolean;
  }
  export default function pinoRoll(options: PinoRollOptions): Promise<SonicBoom>;
}
