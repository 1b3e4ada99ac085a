import { describe, expect, it } from 'vitest';
import { decodeAction } from '../../../src/slack/blocks/actions.ts';
import { DIALOG_BLOCKS, inputModal, readReason, readStepInput, reasonMissing, reasonModal } from '../../../src/slack/blocks/dialogs.ts';
import { LIMITS } from '../../../src/slack/blocks/text.ts';
import { allTexts, step } from './fixtures.ts';

const ref = { jobId: 'acme-3f9a1c0b2d', stepId: 'billing', seq: 17 };

describe('the reason modal', () => {
  it.each([
    ['reject', 'reject_reason'],
    ['override', 'override_reason'],
    ['rollback', 'rollback_reason'],
  ] as const)('for %s has callback %s, a short title and the button ref in private_metadata', (kind, callback) => {
    const view = reasonModal(kind, ref, 'billing');
    expect(view.callback_id).toBe(callback);
    expect(view.title.text.length).toBeLessThanOrEqual(LIMITS.modalTitle);
    expect(decodeAction(view.private_metadata ?? '')).toEqual(ref);
  });

  it('asks for a required, multi-line reason', () => {
    const input = reasonModal('override', ref, 'billing').blocks.find((b) => b.block_id === DIALOG_BLOCKS.reason.blockId);
    expect(input).toMatchObject({ type: 'input', element: { type: 'plain_text_input', multiline: true } });
    expect(input).not.toHaveProperty('optional');
  });

  it('names the step it acts on', () => {
    expect(allTexts(reasonModal('override', ref, 'billing')).join('\n')).toContain('Marks step *billing* as done by hand');
  });

  it('reads back a trimmed reason, and null for a blank one', () => {
    const values = (value: string | null) => ({ reason: { reason_input: { type: 'plain_text_input', value } } });
    expect(readReason(values('  created by hand in Stripe \n'))).toBe('created by hand in Stripe');
    expect(readReason(values('   '))).toBeNull();
    expect(readReason(values(null))).toBeNull();
    expect(readReason({})).toBeNull();
    expect(reasonMissing()).toEqual({ reason: expect.any(String) });
  });
});

describe('the input modal for a step waiting on the customer', () => {
  const sso = step('sso', 'waiting_input', { waitingFor: "the customer's IdP metadata URL" });
  const view = inputModal({ ...ref, stepId: 'sso' }, sso);
  const values = (url: string | null, details: string | null) => ({
    idp_metadata_url: { metadata_url_input: { type: 'url_text_input', value: url } },
    idp_details: { details_input: { type: 'plain_text_input', value: details } },
  });

  it('has callback step_input, a URL field and a multi-line details field', () => {
    expect(view.callback_id).toBe('step_input');
    expect(decodeAction(view.private_metadata ?? '')).toEqual({ ...ref, stepId: 'sso' });
    expect(view.blocks.map((b) => b.type)).toEqual(['section', 'input', 'input']);
    expect(allTexts(view).join('\n')).toContain("waiting for the customer's IdP metadata URL");
  });

  it('reads a metadata URL', () => {
    expect(readStepInput(values(' https://idp.acme.com/saml/metadata ', null))).toEqual({
      ok: true,
      input: { metadataUrl: 'https://idp.acme.com/saml/metadata' },
    });
  });

  it('reads pasted details when there is no URL', () => {
    expect(readStepInput(values(null, '<EntityDescriptor/>'))).toEqual({ ok: true, input: { details: '<EntityDescriptor/>' } });
  });

  it('asks for one or the other when both are empty', () => {
    expect(readStepInput(values('', ''))).toEqual({ ok: false, errors: { idp_metadata_url: expect.stringContaining('metadata URL') } });
  });

  it('refuses a URL that is not http(s)', () => {
    expect(readStepInput(values('javascript:alert(1)', null))).toMatchObject({ ok: false, errors: { idp_metadata_url: expect.any(String) } });
  });
});
