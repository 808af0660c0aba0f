import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, scrubSecrets } from '../ts/run/logger.js';

function captureLogger(level: 'info' | 'debug' = 'info') {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger({ level, destination }), lines };
}

const SECRET = 'sk-proj-abcdefghijklmnop1234567890';

describe('logger redaction', () => {
  it('never writes an API key, whether in a field, nested options, headers or message text', () => {
    const { logger, lines } = captureLogger('debug');
    logger.info({ apiKey: SECRET }, 'creating client');
    logger.info({ options: { apiKey: SECRET, baseURL: 'http://127.0.0.1:1/v1' } }, 'provider options');
    logger.debug({ headers: { authorization: `Bearer ${SECRET}`, 'x-api-key': SECRET } }, 'request');
    logger.warn({ err: new Error(`401 Incorrect API key provided: ${SECRET}`) }, 'call failed');
    logger.error(`request with key ${SECRET} failed`);
    const output = lines.join('');
    expect(lines).toHaveLength(5);
    expect(output).not.toContain('abcdefghijklmnop');
    expect(output).toContain('[REDACTED]');
    expect(output).toContain('http://127.0.0.1:1/v1');
  });

  it('honours the level', () => {
    const { logger, lines } = captureLogger('info');
    logger.debug('hidden');
    logger.info('shown');
    expect(lines.map((line) => JSON.parse(line).msg)).toEqual(['shown']);
  });

  it('scrubs key-shaped substrings and leaves ordinary text alone', () => {
    expect(scrubSecrets(`key=${SECRET} ok`)).toBe('key=[REDACTED] ok');
    expect(scrubSecrets('Authorization: Bearer abc.def-123456')).toBe('Authorization: [REDACTED]');
    expect(scrubSecrets('sk-1 is short, task-runner is fine')).toBe('sk-1 is short, task-runner is fine');
  });
});
