/**
 * What a person gives a step that waits for customer input (today: the
 * customer's IdP metadata, as a URL or pasted), checked the same way from
 * Slack's modal and the admin panel's form. The step checks the content itself.
 */
import { z } from 'zod';

export type StepInput = { metadataUrl?: string; details?: string };

export type StepInputResult = { ok: true; input: StepInput } | { ok: false; field: 'metadataUrl'; message: string };

const HttpUrl = z.url({ protocol: /^https?$/ });

export function parseStepInput(raw: { metadataUrl?: string | undefined; details?: string | undefined }): StepInputResult {
  const url = raw.metadataUrl?.trim() ?? '';
  const details = raw.details?.trim() ?? '';
  if (url === '' && details === '') return { ok: false, field: 'metadataUrl', message: 'Give the metadata URL, or paste the details below' };
  if (url !== '' && !HttpUrl.safeParse(url).success) {
    return { ok: false, field: 'metadataUrl', message: 'Enter an http(s) URL, e.g. https://idp.acme.com/saml/metadata' };
  }
  const input: StepInput = {};
  if (url !== '') input.metadataUrl = url;
  if (details !== '') input.details = details;
  return { ok: true, input };
}
