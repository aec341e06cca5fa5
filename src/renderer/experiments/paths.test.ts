import { describe, expect, it } from 'vitest';
import { comparePath, datasetOfSource, modelPath, parseExperimentIds, parseRunIds, runsPath } from './paths';

describe('ModelHub paths', () => {
  it('round-trips experiment and run ids through the URL, dropping anything else', () => {
    expect(parseExperimentIds(runsPath(['1', '22']).split('/')[2])).toEqual(['1', '22']);
    expect(parseExperimentIds('1,x,1')).toEqual(['1']);
    const id = 'a'.repeat(32);
    expect(parseRunIds(new URL(comparePath([id, 'bad']), 'http://x').searchParams.get('runs'))).toEqual([id]);
    expect(modelPath('my model', 2)).toBe('/models/my%20model?v=2');
  });

  it('links a run input to its dataset only for our own sources', () => {
    expect(datasetOfSource('aidos://datasets/digits/versions/3')).toEqual({ name: 'digits', version: 3 });
    expect(datasetOfSource('s3://bucket/data.csv')).toBeNull();
  });
});
