import { describe, expect, it } from 'vitest';
import { inputPreview, sampleRateText } from './request-log';

describe('sampleRateText', () => {
  it('says what the log keeps: failures whatever the rate, unless it is off', () => {
    expect(sampleRateText(1)).toBe('every request');
    expect(sampleRateText(0.1)).toBe('10% of successful requests and every failure');
    expect(sampleRateText(0.0001)).toBe('0.01% of successful requests and every failure');
    expect(sampleRateText(0)).toBe('off');
  });
});

describe('inputPreview', () => {
  it("shows a chat's logged messages as role: text lines", () => {
    const input = JSON.stringify([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: [{ type: 'text', text: 'The quick brown' }] },
    ]);
    expect(inputPreview(input)).toBe('system: Be brief.\nuser: The quick brown');
  });

  it('shows anything else as it was logged, a chat cut short by the log size too', () => {
    expect(inputPreview('Node.js runs')).toBe('Node.js runs');
    expect(inputPreview('[{"role":"user","content":"The qu')).toBe('[{"role":"user","content":"The qu');
    expect(inputPreview('[1,2]')).toBe('[1,2]');
  });
});
