import { describe, expect, it } from 'vitest';
import { AppError } from '#shared/errors';
import { startFailureMessage } from './start-failure';

describe('startFailureMessage', () => {
  it('says the port is busy and how a desktop user picks another', () => {
    const err = new AppError(
      'FAILED_PRECONDITION',
      'port 8000 on 127.0.0.1 is already in use; pick another with --port',
    );
    const text = startFailureMessage(err, '/home/me/.aidos');
    expect(text).toContain('port 8000 on 127.0.0.1 is already in use');
    expect(text).toContain('AIDOS_PORT');
    expect(text).toContain('/home/me/.aidos/config.json');
  });

  it('explains a native module built for Node rather than Electron', () => {
    const err = Object.assign(
      new Error('was compiled against a different Node.js version using NODE_MODULE_VERSION 115'),
      {
        code: 'ERR_DLOPEN_FAILED',
      },
    );
    expect(startFailureMessage(err)).toContain('@electron/rebuild');
  });

  it('passes any other message through unchanged', () => {
    expect(startFailureMessage(new Error('configuration port: too big'))).toBe('configuration port: too big');
    expect(startFailureMessage('plain string')).toBe('plain string');
  });
});
