/**
 * Strings a billing payload may carry into the store, Slack or a log: no
 * control characters or invisible text-direction controls (a NUL, for one,
 * is refused by the store), as the intake refuses them from people.
 */
import { z } from 'zod';
import { unsafeCharacter } from '../../../domain/text-safety.ts';

/** Text of at most `max` characters without unsafe characters. */
export function safeText(max: number) {
  return z
    .string()
    .max(max)
    .superRefine((text, ctx) => {
      const unsafe = unsafeCharacter(text);
      if (unsafe) ctx.addIssue({ code: 'custom', message: `holds ${unsafe}` });
    });
}

/** A provider's id: printable, no spaces, at most 255 characters (Stripe's ids and idempotency keys fit). */
export const providerId = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/, { error: 'must be a provider id: 1–255 printable ASCII characters without spaces' });
