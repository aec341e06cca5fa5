import { AppError } from '#shared/errors';

// Commander parsers for numeric options: bad input fails (exit 2, naming the flag) before any request is made.

/** 0, 1, 2… */
export function wholeNumber(flag: string): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value)) throw AppError.invalid(flag, `'${value}' is not a whole number`);
    return Number(value);
  };
}

/** A whole number that may be negative (priorities). */
export function integer(flag: string): (value: string) => number {
  return (value) => {
    if (!/^-?\d+$/.test(value)) throw AppError.invalid(flag, `'${value}' is not a whole number`);
    return Number(value);
  };
}

/** Any finite number. */
export function decimal(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw AppError.invalid(flag, `'${value}' is not a number`);
    return n;
  };
}
