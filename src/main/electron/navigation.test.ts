import { describe, expect, it } from 'vitest';
import { externalLinkToOpen, isAppNavigation, originOf } from './navigation';

const APP = 'http://127.0.0.1:8000';

describe('isAppNavigation', () => {
  it('allows pages of the core origin', () => {
    expect(isAppNavigation('http://127.0.0.1:8000/', APP)).toBe(true);
    expect(isAppNavigation('http://127.0.0.1:8000/datasets/01J?tab=files#top', APP)).toBe(true);
  });

  it('refuses another port, host, scheme or a look-alike host', () => {
    expect(isAppNavigation('http://127.0.0.1:8001/', APP)).toBe(false);
    expect(isAppNavigation('http://localhost:8000/', APP)).toBe(false);
    expect(isAppNavigation('https://127.0.0.1:8000/', APP)).toBe(false);
    expect(isAppNavigation('http://127.0.0.1:8000.evil.example/', APP)).toBe(false);
    expect(isAppNavigation('http://evil.example/?http://127.0.0.1:8000', APP)).toBe(false);
    expect(isAppNavigation('http://user@evil.example:8000/', APP)).toBe(false);
  });

  it('refuses non-http schemes and garbage', () => {
    for (const url of [
      'file:///etc/passwd',
      'javascript:alert(1)',
      'data:text/html,hi',
      'about:blank',
      '',
      'not a url',
    ]) {
      expect(isAppNavigation(url, APP)).toBe(false);
    }
  });

  it('refuses everything when the app origin is unknown (the core has not started)', () => {
    expect(isAppNavigation('http://127.0.0.1:8000/', '')).toBe(false);
    expect(isAppNavigation('data:text/html,hi', 'null')).toBe(false);
  });
});

describe('externalLinkToOpen', () => {
  it('passes http and https links to the system browser', () => {
    expect(externalLinkToOpen('https://huggingface.co/models')).toBe('https://huggingface.co/models');
    expect(externalLinkToOpen('http://example.com')).toBe('http://example.com/');
  });

  it('opens nothing for other schemes', () => {
    for (const url of [
      'file:///C:/Windows/system32/calc.exe',
      'javascript:alert(1)',
      'smb://host/share',
      'ms-msdt:x',
      'garbage',
    ]) {
      expect(externalLinkToOpen(url)).toBeNull();
    }
  });
});

describe('originOf', () => {
  it('reduces the core URL to its origin', () => {
    expect(originOf('http://127.0.0.1:41234')).toBe('http://127.0.0.1:41234');
    expect(originOf('http://[::1]:8000/')).toBe('http://[::1]:8000');
  });

  it('throws on a malformed URL', () => {
    expect(() => originOf('')).toThrow();
    expect(() => originOf('file:///x')).toThrow();
  });
});
