import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '#platform/testing';
import { AppError } from '#shared/errors';
import { readTfjsModelFiles } from './model-files';

let data: { dir: string; remove: () => void };

/** A model folder holding `model.json` with this content and the given shards. */
function folder(name: string, json: unknown, shards: Record<string, number> = {}): string {
  const dir = path.join(data.dir, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'model.json'), typeof json === 'string' ? json : JSON.stringify(json));
  for (const [file, bytes] of Object.entries(shards)) writeFileSync(path.join(dir, file), Buffer.alloc(bytes));
  return path.join(dir, 'model.json');
}

const layers = (paths: string[], weights: unknown[]) => ({
  format: 'layers-model',
  modelTopology: { class_name: 'Sequential', config: { layers: [] } },
  weightsManifest: [{ paths, weights }],
});
const kernel = { name: 'dense/kernel', shape: [4, 3], dtype: 'float32' };
const bias = { name: 'dense/bias', shape: [3], dtype: 'float32' };

async function refusal(file: string): Promise<AppError> {
  const err = await readTfjsModelFiles(file).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

beforeAll(() => {
  data = tempDir('aidos-tfjs-files-');
});
afterAll(() => data.remove());

describe('readTfjsModelFiles', () => {
  it('accepts a layers model whose shards hold exactly the weights of its manifest', async () => {
    const file = folder('ok', layers(['a.bin', 'b.bin'], [kernel, bias]), { 'a.bin': 40, 'b.bin': 20 });
    const files = await readTfjsModelFiles(file);
    expect(files.kind).toBe('layers-model');
    expect(files.shards.map((s) => [path.basename(s.path), s.size])).toEqual([
      ['a.bin', 40],
      ['b.bin', 20],
    ]);
    // Quantised weights take their quantisation's bytes: 12 + 3 uint8 values.
    const quantised = folder(
      'quantised',
      layers(
        ['q.bin'],
        [
          { ...kernel, quantization: { dtype: 'uint8', min: 0, scale: 1 } },
          { ...bias, quantization: { dtype: 'uint8' } },
        ],
      ),
      { 'q.bin': 15 },
    );
    expect((await readTfjsModelFiles(quantised)).shards).toHaveLength(1);
  });

  it('tells a graph model from a layers model', async () => {
    const file = folder('graph', { format: 'graph-model', modelTopology: { node: [] }, weightsManifest: [] });
    expect((await readTfjsModelFiles(file)).kind).toBe('graph-model');
  });

  it('refuses damaged models naming the file and the problem', async () => {
    expect(await refusal(path.join(data.dir, 'nowhere', 'model.json'))).toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringMatching(/nowhere\/model\.json' does not exist/),
    });
    const cases: [string, unknown, Record<string, number>, RegExp][] = [
      ['truncated', '{"modelTopology": {"class_name"', {}, /model\.json' is not valid JSON/],
      ['array', [1, 2], {}, /is not a JSON object/],
      ['no-topology', { weightsManifest: [] }, {}, /has no modelTopology object/],
      ['no-manifest', { modelTopology: {} }, {}, /has no weightsManifest list/],
      ['bad-group', { modelTopology: {}, weightsManifest: [{ paths: 'a.bin' }] }, {}, /weightsManifest\[0\] is not/],
      ['escape', layers(['../ok/a.bin'], [kernel]), {}, /names a shard outside its folder: "\.\.\/ok\/a\.bin"/],
      ['missing', layers(['a.bin', 'b.bin'], [kernel, bias]), { 'a.bin': 40 }, /is missing its weight shard 'b\.bin'/],
      [
        'short',
        layers(['a.bin'], [kernel, bias]),
        { 'a.bin': 52 },
        /has 52 bytes of weight shards where its manifest needs 60/,
      ],
    ];
    for (const [name, json, shards, message] of cases) {
      const err = await refusal(folder(name, json, shards));
      expect(err.code, name).toBe('INVALID_ARGUMENT');
      expect(err.message, name).toMatch(new RegExp(`^TF\\.js model '.*${name}/model\\.json' `));
      expect(err.message, name).toMatch(message);
    }
  });
});
