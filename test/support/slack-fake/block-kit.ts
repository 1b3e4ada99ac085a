/**
 * The Block Kit checks Slack applies to every surface that carries blocks
 * (chat.postMessage, chat.update, chat.postEphemeral, response_url replies,
 * views.open/push/update), with Slack's `[ERROR] … [json-pointer:…]` messages.
 * Limits from docs.slack.dev/reference/block-kit (blocks, block elements,
 * composition objects) and views/modal-views.
 */

export const MAX_MESSAGE_BLOCKS = 50;
export const MAX_MODAL_BLOCKS = 100;
/** Any text object (docs: "maximum length is 3000 characters"). */
const MAX_TEXT_OBJECT = 3000;

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  return undefined;
}

type Out = string[];

function tooLong(value: string | undefined, max: number, pointer: string, out: Out): void {
  if (value !== undefined && value.length > max) out.push(`[ERROR] must be less than ${max + 1} characters [json-pointer:${pointer}]`);
}

function tooMany(list: unknown, max: number, pointer: string, out: Out): void {
  if (Array.isArray(list) && list.length > max) out.push(`[ERROR] no more than ${max} items allowed [json-pointer:${pointer}]`);
}

function missing(field: string, pointer: string, out: Out): void {
  out.push(`[ERROR] missing required field: ${field} [json-pointer:${pointer}]`);
}

/** A text object: `plain_text` (or `mrkdwn` where allowed), 1 to `max` characters. */
function textErrors(obj: unknown, max: number, pointer: string, out: Out, only?: 'plain_text'): void {
  if (obj === undefined) return;
  if (!isRecord(obj) || (obj['type'] !== 'plain_text' && obj['type'] !== 'mrkdwn') || typeof obj['text'] !== 'string') {
    out.push(`[ERROR] must be a text object [json-pointer:${pointer}]`);
    return;
  }
  if (only && obj['type'] !== only) out.push(`[ERROR] must be one of ["${only}"] [json-pointer:${pointer}/type]`);
  if (obj['type'] === 'mrkdwn' && obj['emoji'] !== undefined) out.push(`[ERROR] emoji is only for plain_text [json-pointer:${pointer}/emoji]`);
  if (obj['type'] === 'plain_text' && obj['verbatim'] !== undefined)
    out.push(`[ERROR] verbatim is only for mrkdwn [json-pointer:${pointer}/verbatim]`);
  if (obj['text'].length === 0) out.push(`[ERROR] must be more than 0 characters [json-pointer:${pointer}/text]`);
  tooLong(obj['text'], Math.min(max, MAX_TEXT_OBJECT), `${pointer}/text`, out);
}

function requiredText(parent: Record<string, unknown>, key: string, max: number, pointer: string, out: Out, only?: 'plain_text'): void {
  if (parent[key] === undefined) missing(key, pointer, out);
  else textErrors(parent[key], max, `${pointer}/${key}`, out, only);
}

function confirmErrors(confirm: unknown, pointer: string, out: Out): void {
  if (!isRecord(confirm)) return;
  requiredText(confirm, 'title', 100, pointer, out, 'plain_text');
  requiredText(confirm, 'text', 300, pointer, out);
  requiredText(confirm, 'confirm', 30, pointer, out, 'plain_text');
  requiredText(confirm, 'deny', 30, pointer, out, 'plain_text');
}

function optionErrors(option: unknown, pointer: string, out: Out, only?: 'plain_text'): void {
  if (!isRecord(option)) return;
  requiredText(option, 'text', 75, pointer, out, only);
  tooLong(str(option['value']), 150, `${pointer}/value`, out);
  textErrors(option['description'], 75, `${pointer}/description`, out, 'plain_text');
}

/** Options of selects are plain_text only; checkboxes and radio buttons allow mrkdwn, and at most 10. */
function optionsErrors(el: Record<string, unknown>, pointer: string, out: Out): void {
  const select = typeof el['type'] === 'string' && el['type'].includes('select');
  const only = select ? 'plain_text' : undefined;
  const options = el['options'];
  tooMany(options, select ? 100 : 10, `${pointer}/options`, out);
  if (Array.isArray(options)) for (const [i, o] of options.entries()) optionErrors(o, `${pointer}/options/${i}`, out, only);
  if (isRecord(el['initial_option'])) optionErrors(el['initial_option'], `${pointer}/initial_option`, out, only);
}

function elementErrors(el: unknown, pointer: string, out: Out): void {
  if (!isRecord(el)) return;
  tooLong(str(el['action_id']), 255, `${pointer}/action_id`, out);
  textErrors(el['placeholder'], 150, `${pointer}/placeholder`, out, 'plain_text');
  confirmErrors(el['confirm'], `${pointer}/confirm`, out);
  if (el['type'] === 'button') {
    requiredText(el, 'text', 75, pointer, out, 'plain_text');
    tooLong(str(el['value']), 2000, `${pointer}/value`, out);
    tooLong(str(el['url']), 3000, `${pointer}/url`, out);
  }
  if (el['options'] !== undefined || el['initial_option'] !== undefined) optionsErrors(el, pointer, out);
  const maxLength = el['max_length'];
  if (typeof maxLength === 'number' && maxLength > 3000) out.push(`[ERROR] must be at most 3000 [json-pointer:${pointer}/max_length]`);
  tooLong(str(el['initial_value']), 3000, `${pointer}/initial_value`, out);
}

function sectionErrors(b: Record<string, unknown>, p: string, out: Out): void {
  const fields = b['fields'];
  if (b['text'] === undefined && !Array.isArray(fields)) out.push(`[ERROR] must provide either text or fields [json-pointer:${p}]`);
  textErrors(b['text'], 3000, `${p}/text`, out);
  tooMany(fields, 10, `${p}/fields`, out);
  if (Array.isArray(fields)) for (const [j, f] of fields.entries()) textErrors(f, 2000, `${p}/fields/${j}`, out);
  elementErrors(b['accessory'], `${p}/accessory`, out);
}

function contextErrors(b: Record<string, unknown>, p: string, out: Out): void {
  const els = b['elements'];
  if (!Array.isArray(els) || els.length === 0) {
    missing('elements', p, out);
    return;
  }
  tooMany(els, 10, `${p}/elements`, out);
  for (const [j, el] of els.entries()) if (!isRecord(el) || el['type'] !== 'image') textErrors(el, 3000, `${p}/elements/${j}`, out);
}

function actionsErrors(b: Record<string, unknown>, p: string, out: Out): void {
  const els = b['elements'];
  if (!Array.isArray(els) || els.length === 0) {
    missing('elements', p, out);
    return;
  }
  tooMany(els, 25, `${p}/elements`, out);
  for (const [j, el] of els.entries()) elementErrors(el, `${p}/elements/${j}`, out);
}

function inputErrors(b: Record<string, unknown>, p: string, out: Out): void {
  requiredText(b, 'label', 2000, p, out, 'plain_text');
  textErrors(b['hint'], 2000, `${p}/hint`, out, 'plain_text');
  if (b['element'] === undefined) missing('element', p, out);
  elementErrors(b['element'], `${p}/element`, out);
}

const BLOCK_CHECKS: Readonly<Record<string, (b: Record<string, unknown>, p: string, out: Out) => void>> = {
  section: sectionErrors,
  header: (b, p, out) => requiredText(b, 'text', 150, p, out, 'plain_text'),
  context: contextErrors,
  actions: actionsErrors,
  input: inputErrors,
};

/** Block Kit checks Slack applies; returns Slack-style `[ERROR] …` messages. */
export function blockErrors(blocks: unknown, max: number, pointer: string): string[] {
  const out: Out = [];
  if (!Array.isArray(blocks)) return [`[ERROR] must be an array [json-pointer:${pointer}]`];
  tooMany(blocks, max, pointer, out);
  for (const [i, b] of blocks.entries()) {
    const p = `${pointer}/${i}`;
    if (!isRecord(b) || typeof b['type'] !== 'string') {
      missing('type', p, out);
      continue;
    }
    tooLong(str(b['block_id']), 255, `${p}/block_id`, out);
    BLOCK_CHECKS[b['type']]?.(b, p, out);
  }
  return out;
}

/** Modal checks Slack applies to views.open/push/update (docs.slack.dev/reference/views/modal-views). */
export function viewErrors(view: unknown): string[] {
  if (!isRecord(view)) return ['[ERROR] missing required field: view [json-pointer:/view]'];
  const out: Out = [];
  if (view['type'] !== 'modal') out.push('[ERROR] must be "modal" [json-pointer:/view/type]');
  requiredText(view, 'title', 24, '/view', out, 'plain_text');
  textErrors(view['submit'], 24, '/view/submit', out, 'plain_text');
  textErrors(view['close'], 24, '/view/close', out, 'plain_text');
  tooLong(str(view['callback_id']), 255, '/view/callback_id', out);
  tooLong(str(view['private_metadata']), 3000, '/view/private_metadata', out);
  tooLong(str(view['external_id']), 255, '/view/external_id', out);
  const blocks = view['blocks'];
  if (blocks === undefined) out.push('[ERROR] missing required field: blocks [json-pointer:/view]');
  else out.push(...blockErrors(blocks, MAX_MODAL_BLOCKS, '/view/blocks'));
  const hasInput = Array.isArray(blocks) && blocks.some((b: unknown) => isRecord(b) && b['type'] === 'input');
  if (hasInput && view['submit'] === undefined) {
    out.push('[ERROR] must provide a submit property when using input blocks [json-pointer:/view]');
  }
  return out;
}
