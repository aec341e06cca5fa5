import { z } from 'zod';
import { ERROR_CODES } from '../errors';
import { ID_PATTERN } from '../ids';

/** A sortable id (ULID). Rejecting anything else up front also rejects path traversal in path parameters. */
export const Id = z.string().regex(ID_PATTERN, 'must be a 26-character id');
/** Milliseconds since the Unix epoch, UTC. */
export const Timestamp = z.number().int().nonnegative();
export const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex sha256');

/** Paging through a list ordered newest first: pass `nextCursor` back as `cursor`. */
export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional(),
});

export function page<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

export const Ok = z.object({ ok: z.literal(true) });

/** A boolean in a query string ("true"/"false", "1"/"0"); typed clients may pass a real boolean. */
export const QueryBool = z.union([z.boolean(), z.stringbool()]);

/** The body of every error response (ARCHITECTURE.md §7). */
export const ErrorResponse = z.object({
  error: z.object({
    code: z.enum(ERROR_CODES),
    message: z.string(),
    details: z.unknown().optional(),
  }),
});
