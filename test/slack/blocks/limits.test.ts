/**
 * Whatever a builder puts in, what leaves message() and modalView() is a
 * payload Slack accepts: checked with the same Block Kit rules the Slack fake
 * applies to every method.
 */
import type { KnownBlock } from '@slack/types';
import { describe, expect, it } from 'vitest';
import { LIMITS, message, modalView, withinLimits } from '../../../src/slack/blocks/index.ts';
import { blockErrors, viewErrors } from '../../support/slack-fake.ts';

const long = (n: number) => 'x'.repeat(n);
const plain = (text: string) => ({ type: 'plain_text' as const, text });
const mrkdwn = (text: string) => ({ type: 'mrkdwn' as const, text });

/** Every kind of block we build, each text far over its limit. */
function oversized(): KnownBlock[] {
  return [
    { type: 'header', text: plain(long(500)) },
    { type: 'section', text: mrkdwn(long(10_000)), fields: Array.from({ length: 12 }, () => mrkdwn(long(3000))) },
    { type: 'context', elements: Array.from({ length: 12 }, () => mrkdwn(long(4000))) },
    {
      type: 'actions',
      elements: [
        {
          type: 'button',
          action_id: 'go',
          text: plain(long(200)),
          confirm: { title: plain(long(200)), text: mrkdwn(long(1000)), confirm: plain(long(50)), deny: plain(long(50)) },
        },
      ],
    },
    {
      type: 'input',
      label: plain(long(3000)),
      hint: plain(long(3000)),
      element: { type: 'plain_text_input', action_id: 'v', placeholder: plain(long(300)) },
    },
    {
      type: 'input',
      label: plain('Plan'),
      element: {
        type: 'static_select',
        action_id: 'plan',
        placeholder: plain(long(300)),
        options: [{ text: plain(long(100)), value: 'p', description: plain(long(100)) }],
      },
    },
    ...Array.from({ length: 120 }, (_, i): KnownBlock => ({ type: 'section', text: mrkdwn(`row ${i}`) })),
  ];
}

describe('Block Kit limits, applied in one place', () => {
  it('a message Slack would refuse becomes one it accepts, cut with "…"', () => {
    expect(blockErrors(oversized(), LIMITS.messageBlocks, '/blocks')).not.toEqual([]);
    const fitted = message(long(50_000), oversized());
    expect(blockErrors(fitted.blocks, LIMITS.messageBlocks, '/blocks')).toEqual([]);
    expect(fitted.blocks).toHaveLength(LIMITS.messageBlocks);
    expect(fitted.text.length).toBeLessThanOrEqual(LIMITS.text);
    expect(JSON.stringify(fitted.blocks[1])).toContain('…');
  });

  it('a modal Slack would refuse becomes one it accepts', () => {
    const view = modalView({ title: plain(long(100)), submit: plain(long(100)), close: plain(long(100)), blocks: oversized() });
    expect(viewErrors(view)).toEqual([]);
    expect(view.blocks).toHaveLength(LIMITS.modalBlocks);
  });

  it('leaves what already fits exactly as it was', () => {
    const blocks: KnownBlock[] = [{ type: 'section', text: mrkdwn('*Acme* is live') }, { type: 'divider' }];
    expect(withinLimits(blocks, LIMITS.messageBlocks)).toEqual(blocks);
  });
});
