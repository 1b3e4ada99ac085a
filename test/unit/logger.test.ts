/** Secrets never reach the log: by the field's name, and by the shape of the value wherever it is written. */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/adapters/logger.ts';
import { lazyChild, type Log } from '../../src/ports/logger.ts';
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

describe("a step activation's logger", () => {
  it('is made from its parent only when it writes a line at the configured level, and then carries its bindings', () => {
    const log = captureLog();
    const logger = createLogger({ level: 'info', format: 'json', destination: log.stream });
    let made = 0;
    const parent: Log = {
      debug: (fields, message) => logger.debug(fields, message),
      info: (fields, message) => logger.info(fields, message),
      warn: (fields, message) => logger.warn(fields, message),
      error: (fields, message) => logger.error(fields, message),
      child: (bindings) => {
        made += 1;
        return logger.child(bindings);
      },
      isLevelEnabled: (level) => logger.isLevelEnabled(level),
    };
    const step = lazyChild(parent, { jobId: 'job-1', stepId: 'database' });

    step.debug({ outcome: 'succeeded' }, 'below the level: nothing written, nothing made');
    expect(made).toBe(0);
    expect(log.lines()).toEqual([]);

    step.warn({ outcome: 'failed' }, 'Step database failed');
    step.info({}, 'a second line');
    expect(made).toBe(1);
    expect(log.lines()).toMatchObject([
      { jobId: 'job-1', stepId: 'database', outcome: 'failed', msg: 'Step database failed' },
      { jobId: 'job-1', stepId: 'database', msg: 'a second line' },
    ]);
  });
});
