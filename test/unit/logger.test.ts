/** Secrets never reach the log: by the field's name, and by the shape of the value wherever it is written. */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/adapters/logger.ts';
import { captureLog } from '../support/log-capture.ts';

const STRIPE_KEY = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc';

describe('the logger', () => {
  it('censors fields named like secrets at any depth, and token shapes in messages, fields and errors', () => {
    const log = captureLog();
    const logger = createLogger({ level: 'info', format: 'json', destination: log.stream });
    const child = logger.child({ jobId: 'job-1', apiKey: 'plain-key' });
    child.warn(
      { request: { headers: { authorization: 'Basic dXNlcjpwYXNz' } }, smtp: { password: 'hunter2' }, note: 'bot xoxb-1234-5678-abcdefgh' },
      'Slack said invalid_auth for xoxb-1234-5678-abcdefgh',
    );
    logger.error(new Error(`Stripe rejected ${STRIPE_KEY}`));
    logger.warn({ err: new Error(`again ${STRIPE_KEY}`) });
    const [warned, errored, errField] = log.lines();
    expect(warned).toMatchObject({
      jobId: 'job-1',
      apiKey: '[redacted]',
      request: { headers: { authorization: '[redacted]' } },
      smtp: { password: '[redacted]' },
      note: 'bot [redacted]',
      msg: 'Slack said invalid_auth for [redacted]',
    });
    // An error logged on its own gives the line its message: redacted too, as are its message and stack.
    expect(errored).toMatchObject({ level: 50, msg: 'Stripe rejected [redacted]', err: { type: 'Error', message: 'Stripe rejected [redacted]' } });
    expect(errField).toMatchObject({ msg: 'again [redacted]', err: { stack: expect.stringContaining('Error: again [redacted]') } });
    expect(log.text()).not.toMatch(/hunter2|dXNlcjpwYXNz|plain-key|xoxb-1234|sk_live/);
  });

  it("an SDK's response object inside an error is named, not dumped with its headers", () => {
    const log = captureLog();
    const logger = createLogger({ level: 'info', format: 'json', destination: log.stream });
    class HttpResponse {
      statusCode = 403;
      headers = { 'x-upstream-auth': 'opaque-session-value' };
    }
    logger.warn({ err: Object.assign(new Error('AccessDenied'), { $response: new HttpResponse(), code: 'AccessDenied' }) }, 'step failed');
    const [line] = log.lines();
    expect(line).toMatchObject({ err: { type: 'Error', message: 'AccessDenied', code: 'AccessDenied', $response: '[HttpResponse]' } });
    expect(log.text()).not.toContain('opaque-session-value');
  });

  it('writes nothing below its level', () => {
    const log = captureLog();
    const logger = createLogger({ level: 'warn', format: 'json', destination: log.stream });
    logger.info({ jobId: 'job-1' }, 'step succeeded');
    logger.warn({ jobId: 'job-1' }, 'step failed');
    expect(log.lines().map((l) => l['msg'])).toEqual(['step failed']);
  });

  it('the pretty format (local profile) is redacted as well', () => {
    const log = captureLog();
    const logger = createLogger({ level: 'info', format: 'pretty', destination: log.stream });
    logger.child({ jobId: 'job-1' }).warn({ err: new Error(`no to ${STRIPE_KEY}`), token: 'abc' }, `failed with ${STRIPE_KEY}`);
    expect(log.text()).toContain('failed with [redacted]');
    expect(log.text()).toContain('jobId: "job-1"');
    expect(log.text()).not.toMatch(/sk_live|"abc"/);
  });
});
