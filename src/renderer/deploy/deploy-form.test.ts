import { describe, expect, it } from 'vitest';
import { AppError } from '#shared/errors';
import {
  deploymentInputOf,
  emptyDraft,
  formErrorsOf,
  isDeployable,
  isTensorRuntime,
  versionSelectorOf,
} from './deploy-form';

describe('versionSelectorOf', () => {
  it('reads a number as a version and anything else as an alias', () => {
    expect(versionSelectorOf('')).toBeUndefined();
    expect(versionSelectorOf(' 3 ')).toBe(3);
    expect(versionSelectorOf('@champion')).toBe('@champion');
    expect(versionSelectorOf('champion')).toBe('@champion');
  });
});

describe('deploymentInputOf', () => {
  it('leaves empty fields out so that the server defaults apply', () => {
    const input = deploymentInputOf(emptyDraft('tiny-llama'));
    expect(input).toMatchObject({ model: 'tiny-llama', parallel: 1, minReplicas: 1, idleUnloadSeconds: null });
    expect(input.version).toBeUndefined();
    expect(input.name).toBeUndefined();
    expect(input.contextSize).toBeUndefined();
    expect(input.threads).toBeUndefined();
  });

  it('sends what was typed, the log share as a fraction', () => {
    const input = deploymentInputOf({
      ...emptyDraft('tiny-llama', '@champion'),
      name: ' tiny ',
      contextSize: '512',
      threads: '1',
      idleUnloadSeconds: '300',
      minReplicas: '0',
      logPercent: '25',
    });
    expect(input).toMatchObject({
      version: '@champion',
      name: 'tiny',
      contextSize: 512,
      threads: 1,
      idleUnloadSeconds: 300,
      minReplicas: 0,
      requestLog: { sampleRate: 0.25 },
    });
  });
});

describe('deploymentInputOf for ONNX', () => {
  it('sends replicas and batching, not the GGUF settings', () => {
    const input = deploymentInputOf(
      { ...emptyDraft('digits'), minReplicas: '1', maxReplicas: '4', maxBatchSize: '16', maxQueueDelayMs: '5' },
      'onnx',
    );
    expect(input).toMatchObject({ minReplicas: 1, maxReplicas: 4, maxBatchSize: 16, maxQueueDelayMs: 5 });
    expect(input).not.toHaveProperty('chatFormat');
    expect(input).not.toHaveProperty('contextSize');
    expect(deploymentInputOf(emptyDraft('tiny'), 'gguf')).not.toHaveProperty('maxBatchSize');
  });

  it('sends replicas and batching for TF.js too, as for ONNX', () => {
    // Threads typed while another runtime was chosen stay behind: TF.js sets its own (the server refuses them).
    const draft = {
      ...emptyDraft('flowers'),
      maxReplicas: '3',
      maxBatchSize: '8',
      maxQueueDelayMs: '1.5',
      threads: '2',
    };
    const input = deploymentInputOf(draft, 'tfjs');
    expect(input).toMatchObject({ maxReplicas: 3, maxBatchSize: 8, maxQueueDelayMs: 1.5 });
    expect(input.threads).toBeUndefined();
    expect(deploymentInputOf(draft, 'onnx').threads).toBe(2);
    expect(input).not.toHaveProperty('chatFormat');
    expect(input).not.toHaveProperty('parallel');
  });
});

describe('isDeployable and isTensorRuntime', () => {
  it('deploys GGUF, ONNX and TF.js models, whatever the case of the format', () => {
    for (const format of ['gguf', 'onnx', 'tfjs', 'TFJS']) expect(isDeployable(format)).toBe(true);
    for (const format of ['safetensors', 'pytorch', '']) expect(isDeployable(format)).toBe(false);
  });

  it('treats ONNX and TF.js as tensor models, and neither GGUF nor an undeployable or unknown format', () => {
    expect(isTensorRuntime('onnx')).toBe(true);
    expect(isTensorRuntime('tfjs')).toBe(true);
    expect(isTensorRuntime('gguf')).toBe(false);
    expect(isTensorRuntime('safetensors')).toBe(false);
    expect(isTensorRuntime(undefined)).toBe(false);
  });
});

describe('formErrorsOf', () => {
  it("puts a validation error's issues under their fields, without the field's name in front", () => {
    const error = new AppError('INVALID_ARGUMENT', 'body.parallel: too big', {
      issues: [
        { field: 'body.parallel', message: 'Too big: expected number to be <=64' },
        { field: 'body.requestLog.sampleRate', message: 'Too big: expected number to be <=1' },
      ],
    });
    expect(formErrorsOf(error)).toEqual({
      // The API's fraction is the form's percentage: the limit is said as one.
      fields: { parallel: 'Too big: expected number to be <=64', logPercent: 'give a percentage from 0 to 100' },
      general: [],
    });
  });

  it('puts a service error naming a field under it, whatever its code (a taken name is a conflict)', () => {
    const taken = new AppError('CONFLICT', "a deployment named 'tiny' already exists; pick another name", {
      field: 'name',
    });
    expect(formErrorsOf(taken).fields.name).toBe("a deployment named 'tiny' already exists; pick another name");
    expect(formErrorsOf(AppError.invalid('version', "alias 'x' does not exist")).fields.version).toBe(
      "alias 'x' does not exist",
    );
    expect(formErrorsOf(AppError.invalid('maxReplicas', 'one replica only')).fields.maxReplicas).toBe(
      'one replica only',
    );
    // Settings named in the message go by the form's words.
    expect(formErrorsOf(AppError.invalid('minReplicas', '3 is more than maxReplicas (1)')).fields.minReplicas).toBe(
      '3 is more than max replicas (1)',
    );
  });

  it('keeps errors that name no field of the form for the banner', () => {
    const full = new AppError('RESOURCE_EXHAUSTED', 'needs 9 GiB of RAM', { neededBytes: 1 });
    expect(formErrorsOf(full)).toEqual({ fields: {}, general: ['needs 9 GiB of RAM'] });
    expect(formErrorsOf(null)).toEqual({ fields: {}, general: [] });
    expect(formErrorsOf(new TypeError('Failed to fetch')).general).toEqual(['Failed to fetch']);
  });
});
