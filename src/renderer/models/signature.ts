/**
 * A model version's signature as the registry stores it (read from ONNX and GGUF files: inputs, outputs and
 * facts), checked here because the contract types it as unknown.
 */
export interface SignatureView {
  inputs: { name: string; dtype: string; shape: string }[];
  outputs: { name: string; dtype: string; shape: string }[];
  metadata: { key: string; value: string }[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A shape as written in papers: `[batch, 1, 28, 28]`, `?` for an unknown size, `[]` for a scalar or unknown rank. */
export function formatShape(shape: unknown): string {
  if (!Array.isArray(shape)) return '';
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

function tensors(value: unknown): SignatureView['inputs'] {
  if (!Array.isArray(value)) return [];
  return value.filter(isRecord).map((t) => ({
    name: typeof t.name === 'string' ? t.name : '',
    dtype: typeof t.dtype === 'string' ? t.dtype : '',
    shape: formatShape(t.shape),
  }));
}

/** The signature, or null when the version has none (another format) or it is not of the expected shape. */
export function signatureOf(raw: unknown): SignatureView | null {
  if (!isRecord(raw)) return null;
  const inputs = tensors(raw.inputs);
  const outputs = tensors(raw.outputs);
  const metadata = isRecord(raw.metadata)
    ? Object.entries(raw.metadata).map(([key, value]) => ({ key, value: value === null ? '' : String(value) }))
    : [];
  if (inputs.length === 0 && outputs.length === 0 && metadata.length === 0) return null;
  return { inputs, outputs, metadata };
}
