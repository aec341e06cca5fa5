import { describe, expect, it } from 'vitest';
import {
  artifactLocation,
  parseModelRef,
  parseVersionSelector,
  preprocessingPathFor,
  tfjsExportDirFor,
} from './model-source';

describe('model references', () => {
  it('reads name, name:version and name@alias as the CLI takes them', () => {
    expect(parseModelRef('tiny-llama')).toEqual({ model: 'tiny-llama', version: undefined });
    expect(parseModelRef('tiny-llama:3')).toEqual({ model: 'tiny-llama', version: 3 });
    expect(parseModelRef('tiny-llama@champion')).toEqual({ model: 'tiny-llama', version: '@champion' });
    // A colon not followed by a number is part of the name.
    expect(parseModelRef('team:llama')).toEqual({ model: 'team:llama', version: undefined });
  });

  it('tells version numbers from aliases, with or without the @', () => {
    expect(parseVersionSelector(undefined)).toBeUndefined();
    expect(parseVersionSelector(2)).toBe(2);
    expect(parseVersionSelector('2')).toBe(2);
    expect(parseVersionSelector('@champion')).toEqual({ alias: 'champion' });
    expect(parseVersionSelector('champion')).toEqual({ alias: 'champion' });
  });

  it("finds the artifact root and folder of ModelHub's sources, and nothing outside the app", () => {
    expect(artifactLocation('mlflow-artifacts:/registry/01JABCDEFGHJKMNPQRSTVWXYZ0')).toEqual({
      root: 'registry/01JABCDEFGHJKMNPQRSTVWXYZ0',
      dir: '',
    });
    const run = '1/0123456789abcdef0123456789abcdef/artifacts';
    expect(artifactLocation(`mlflow-artifacts:/${run}/model/`)).toEqual({ root: run, dir: 'model' });
    expect(artifactLocation('s3://bucket/model')).toBeNull();
  });

  it('finds the preprocessing a built-in trainer saves beside its model.onnx', () => {
    expect(preprocessingPathFor('model/model.onnx')).toBe('model/preprocessing.json');
    expect(preprocessingPathFor('model.onnx')).toBe('preprocessing.json');
  });

  it('finds the TF.js export a built-in trainer keeps beside its model.onnx', () => {
    expect(tfjsExportDirFor('model/model.onnx')).toBe('model/tfjs');
    expect(tfjsExportDirFor('model.onnx')).toBe('tfjs');
  });
});
