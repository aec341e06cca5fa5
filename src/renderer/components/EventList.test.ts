import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '#shared/contracts/system';
import { describeEvent } from './EventList';

const event = (name: string, data: unknown): EventEnvelope => ({
  id: '01',
  name,
  at: 1_700_000_000_000,
  data,
});

describe('describeEvent', () => {
  it('says what changed for the services’ frequent events, not their JSON', () => {
    expect(
      describeEvent(
        event('deploy.deployment.updated', { deployment: { name: 'digits', state: 'ready', device: 'auto' } }),
      ),
    ).toEqual({ text: 'digits · ready', tone: 'good' });
    expect(
      describeEvent(
        event('deploy.deployment.updated', { deployment: { name: 'llm', state: 'stopped' }, deleted: true }),
      ),
    ).toEqual({ text: 'llm · stopped · deleted', tone: 'neutral' });
    expect(describeEvent(event('run.updated', { run: { id: 'r1', name: 'run-3', status: 'FAILED' } }))).toEqual({
      text: 'run-3 · failed',
      tone: 'bad',
    });
    expect(describeEvent(event('run.metrics', { runId: '01a225cb4df67308ab06', keys: ['loss', 'acc'] })).text).toMatch(
      /^run \S+ · loss, acc$/,
    );
    expect(describeEvent(event('training.job.updated', { job: { name: 'train.py', state: 'running' } }))).toEqual({
      text: 'train.py · running',
      tone: 'info',
    });
    expect(describeEvent(event('model.alias.moved', { name: 'digits', alias: 'champion', version: 3 })).text).toBe(
      'digits @champion → v3',
    );
    expect(describeEvent(event('model.alias.moved', { name: 'digits', alias: 'champion', version: null })).text).toBe(
      'digits @champion → removed',
    );
  });

  it('shows the data of an event it does not know, or of a known one in an unexpected shape', () => {
    expect(describeEvent(event('plugin.thing', { a: 1 }))).toEqual({ text: '{"a":1}', tone: 'neutral' });
    expect(describeEvent(event('deploy.deployment.updated', { deployment: 42 })).text).toBe('{"deployment":42}');
  });
});
