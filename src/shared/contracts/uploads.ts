import { z } from 'zod';
import { endpoint } from '../api/endpoint';
import { Id, Sha256, Timestamp } from './common';

/** The largest chunk one request may carry; clients send files in chunks of at most this size. */
export const UPLOAD_CHUNK_MAX_BYTES = 16 * 1024 * 1024;
/** The largest file one upload may hold. */
export const UPLOAD_MAX_BYTES = 64 * 1024 * 1024 * 1024;

export const Upload = z.object({
  id: Id,
  filename: z.string(),
  size: z.number().int(),
  /** Bytes received so far: where the next chunk must start (resume from here after a dropped connection). */
  received: z.number().int(),
  /** Set once every byte has arrived and been hashed into the blob store. */
  sha256: Sha256.nullable(),
  createdAt: Timestamp,
  expiresAt: Timestamp,
});
export type Upload = z.infer<typeof Upload>;

export const uploadsEndpoints = {
  'uploads.create': endpoint({
    method: 'POST',
    path: '/api/v1/uploads',
    summary: 'Start a resumable upload of one file; then send its bytes in chunks',
    scope: 'write',
    input: z.object({
      filename: z
        .string()
        .min(1)
        .max(1024)
        .refine((n) => !/[\0\n\r]/.test(n), 'must not hold control characters'),
      size: z.number().int().min(0).max(UPLOAD_MAX_BYTES),
      /** When given, the finished upload is refused unless its content has this hash. */
      sha256: Sha256.optional(),
    }),
    output: Upload,
    status: 201,
  }),
  'uploads.get': endpoint({
    method: 'GET',
    path: '/api/v1/uploads/:id',
    summary: 'How much of an upload has arrived (to resume after a dropped connection)',
    scope: 'read',
    input: z.object({ id: Id }),
    output: Upload,
  }),
  'uploads.append': endpoint({
    method: 'PUT',
    path: '/api/v1/uploads/:id',
    summary: 'Append a chunk (application/octet-stream) at `offset`, which must equal the bytes received so far',
    scope: 'write',
    input: z.object({ id: Id, offset: z.coerce.number().int().min(0) }),
    output: Upload,
    rawBody: { maxBytes: UPLOAD_CHUNK_MAX_BYTES },
  }),
  'uploads.cancel': endpoint({
    method: 'DELETE',
    path: '/api/v1/uploads/:id',
    summary: 'Abandon an upload and drop what has arrived',
    scope: 'write',
    input: z.object({ id: Id }),
    output: Upload,
  }),
} as const;
