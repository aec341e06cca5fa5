import { describe, expect, it } from 'vitest';
import { isTrustedSender } from './sender-check';

const APP = 'http://127.0.0.1:8000';

describe('isTrustedSender', () => {
  it('trusts the main frame showing a page of the app origin', () => {
    expect(isTrustedSender('http://127.0.0.1:8000/', true, APP)).toBe(true);
    expect(isTrustedSender('http://127.0.0.1:8000/experiments/01J#runs', true, APP)).toBe(true);
  });

  it('refuses a subframe even on the app origin', () => {
    expect(isTrustedSender('http://127.0.0.1:8000/', false, APP)).toBe(false);
  });

  it('refuses a main frame that shows another origin', () => {
    expect(isTrustedSender('https://evil.example/', true, APP)).toBe(false);
    expect(isTrustedSender('http://127.0.0.1:9000/', true, APP)).toBe(false);
    expect(isTrustedSender('http://localhost:8000/', true, APP)).toBe(false);
    expect(isTrustedSender('file:///tmp/page.html', true, APP)).toBe(false);
  });

  it('refuses a frame without a URL or with an opaque origin', () => {
    expect(isTrustedSender(null, true, APP)).toBe(false);
    expect(isTrustedSender(undefined, true, APP)).toBe(false);
    expect(isTrustedSender('', true, APP)).toBe(false);
    expect(isTrustedSender('about:blank', true, APP)).toBe(false);
    expect(isTrustedSender('data:text/html,x', true, 'null')).toBe(false);
  });

  it('refuses everything before the core has an origin', () => {
    expect(isTrustedSender('http://127.0.0.1:8000/', true, '')).toBe(false);
  });
});
