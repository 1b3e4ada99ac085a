import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/adapters/slack/limiter.ts';

describe('the Slack rate budget', () => {
  it('spaces calls to its rate after the burst, in the order they asked', async () => {
    const limiter = new RateLimiter(20, 2);
    const started = Date.now();
    const order: number[] = [];
    await Promise.all([0, 1, 2, 3, 4, 5].map((i) => limiter.take().then(() => order.push(i))));
    const elapsed = Date.now() - started;
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    // Two at once, then four more at 20/s: about 200 ms.
    expect(elapsed).toBeGreaterThanOrEqual(180);
    expect(elapsed).toBeLessThan(1000);
  });
});
