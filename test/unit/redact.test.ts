import { describe, expect, it } from 'vitest';
import { redact, redactText } from '../../src/domain/redact.ts';

describe('secrets never reach the record', () => {
  it('masks secret-looking keys at any depth and makes keys storable', () => {
    expect(redact({ customerId: 'cus_1', apiKey: 'abc', nested: { password: 'p', 'a.b': 1, $where: 2 } })).toEqual({
      customerId: 'cus_1',
      apiKey: '[redacted]',
      nested: { password: '[redacted]', a_b: 1, _where: 2 },
    });
  });

  it('masks well-known credential shapes even under innocent keys or inside sentences', () => {
    expect(redactText('Stripe said no to sk_live_4eC39HqLyjWDarjtT1zdp7dc')).toBe('Stripe said no to [redacted]');
    expect(redact({ note: 'token xoxb-1234-5678-abcdefgh here', aws: 'AKIAIOSFODNN7EXAMPLE' })).toEqual({
      note: 'token [redacted] here',
      aws: '[redacted]',
    });
    expect(redactText('posted to https://hooks.slack.com/services/T0ABC/B0DEF/xYz123secret failed')).toBe('posted to [redacted] failed');
  });
});
