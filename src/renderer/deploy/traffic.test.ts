import { describe, expect, it } from 'vitest';
import type { DeploymentTraffic } from '#shared/contracts/deploy';
import { trafficForm, trafficInput, trafficLabel } from './traffic';

const source = {
  kind: 'model-version' as const,
  model: 'digits',
  version: 2,
  alias: null,
  format: 'onnx',
  path: '/m/digits.onnx',
  sha256: null,
};

describe('the traffic card', () => {
  it('says what the second version does', () => {
    expect(trafficLabel({ traffic: null })).toBe('The main version answers every request');
    const canary: DeploymentTraffic = { mode: 'canary', percent: 10, source };
    expect(trafficLabel({ traffic: canary })).toBe('Canary v2 answers 10% of requests');
    expect(trafficLabel({ traffic: { mode: 'shadow', percent: 100, source } })).toMatch(/^Shadow v2 is sent every/);
  });

  it('turns the form into the API input: numbers for versions and percent, aliases kept, no percent for a shadow', () => {
    expect(trafficInput({ mode: 'canary', version: ' 2 ', percent: '25' })).toEqual({
      mode: 'canary',
      version: 2,
      percent: 25,
    });
    expect(trafficInput({ mode: 'canary', version: '@next', percent: '' })).toEqual({
      mode: 'canary',
      version: '@next',
    });
    expect(trafficInput({ mode: 'shadow', version: '3', percent: '25' })).toEqual({ mode: 'shadow', version: 3 });
  });

  it('starts from the current setting', () => {
    expect(trafficForm({ traffic: { mode: 'canary', percent: 30, source } })).toEqual({
      mode: 'canary',
      version: '2',
      percent: '30',
    });
    expect(trafficForm({ traffic: null })).toEqual({ mode: 'canary', version: '', percent: '10' });
  });
});
