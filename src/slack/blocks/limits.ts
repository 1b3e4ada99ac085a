/**
 * The one place that keeps every payload inside Block Kit's limits: messages
 * and modals pass through here on their way out of the builders, so however
 * long the text someone typed or an integration returned, Slack never answers
 * invalid_blocks and the reader always sees something (cut with "…").
 */
import type {
  ActionsBlock,
  ActionsBlockElement,
  Button,
  ConfirmationDialog,
  ContextBlock,
  InputBlock,
  KnownBlock,
  ModalView,
  MrkdwnOption,
  PlainTextElement,
  PlainTextOption,
  SectionBlock,
  TextObject,
} from '@slack/types';
import { LIMITS, truncate } from './text.ts';

function capped<T extends TextObject>(text: T, max: number): T {
  return text.text.length <= max ? text : { ...text, text: truncate(text.text, max) };
}

function fitConfirm(dialog: ConfirmationDialog): ConfirmationDialog {
  const fitted: ConfirmationDialog = { ...dialog, text: capped(dialog.text, LIMITS.confirmText) };
  if (dialog.title) fitted.title = capped(dialog.title, LIMITS.confirmTitle);
  if (dialog.confirm) fitted.confirm = capped(dialog.confirm, LIMITS.confirmButton);
  if (dialog.deny) fitted.deny = capped(dialog.deny, LIMITS.confirmButton);
  return fitted;
}

function fitButton(button: Button): Button {
  const fitted: Button = { ...button, text: capped(button.text, LIMITS.buttonText) };
  if (button.confirm) fitted.confirm = fitConfirm(button.confirm);
  return fitted;
}

function fitOption<O extends PlainTextOption | MrkdwnOption>(option: O): O {
  const fitted: O = { ...option, text: capped(option.text, LIMITS.optionText) };
  if (option.description) fitted.description = capped(option.description, LIMITS.optionDescription);
  return fitted;
}

function fitActionElement(element: ActionsBlockElement): ActionsBlockElement {
  return element.type === 'button' ? fitButton(element) : element;
}

function fitPlaceholder(placeholder: PlainTextElement | undefined): { placeholder?: PlainTextElement } {
  return placeholder ? { placeholder: capped(placeholder, LIMITS.placeholder) } : {};
}

function fitInput(block: InputBlock): InputBlock {
  const fitted: InputBlock = { ...block, label: capped(block.label, LIMITS.inputLabel) };
  if (block.hint) fitted.hint = capped(block.hint, LIMITS.hint);
  const element = block.element;
  if (element.type === 'static_select') {
    fitted.element = { ...element, ...fitPlaceholder(element.placeholder), ...(element.options ? { options: element.options.map(fitOption) } : {}) };
  } else if (element.type === 'checkboxes') {
    fitted.element = { ...element, options: element.options.map(fitOption) };
  } else if (element.type === 'plain_text_input' || element.type === 'email_text_input' || element.type === 'url_text_input') {
    fitted.element = { ...element, ...fitPlaceholder(element.placeholder) };
  }
  return fitted;
}

function fitSection(block: SectionBlock): SectionBlock {
  const fitted: SectionBlock = { ...block };
  if (block.text) fitted.text = capped(block.text, LIMITS.text);
  if (block.fields) fitted.fields = block.fields.slice(0, LIMITS.sectionFields).map((f) => capped(f, LIMITS.fieldText));
  if (block.accessory?.type === 'button') fitted.accessory = fitButton(block.accessory);
  return fitted;
}

function fitContext(block: ContextBlock): ContextBlock {
  const elements = block.elements.slice(0, LIMITS.contextElements).map((e) => (e.type === 'image' ? e : capped(e, LIMITS.text)));
  return { ...block, elements };
}

function fitActions(block: ActionsBlock): ActionsBlock {
  return { ...block, elements: block.elements.slice(0, LIMITS.actionsElements).map(fitActionElement) };
}

function fitBlock(block: KnownBlock): KnownBlock {
  switch (block.type) {
    case 'section':
      return fitSection(block);
    case 'header':
      return { ...block, text: capped(block.text, LIMITS.headerText) };
    case 'context':
      return fitContext(block);
    case 'actions':
      return fitActions(block);
    case 'input':
      return fitInput(block);
    default:
      return block;
  }
}

/** At most `maxBlocks` blocks, every text within its field's limit. */
export function withinLimits(blocks: readonly KnownBlock[], maxBlocks: number): KnownBlock[] {
  return blocks.slice(0, maxBlocks).map(fitBlock);
}

export type ModalSpec = Omit<ModalView, 'type' | 'blocks'> & { blocks: readonly KnownBlock[] };

/** A modal within limits: title and buttons, at most 100 blocks, each within its limits. */
export function modalView(spec: ModalSpec): ModalView {
  const view: ModalView = {
    ...spec,
    type: 'modal',
    title: capped(spec.title, LIMITS.modalTitle),
    blocks: withinLimits(spec.blocks, LIMITS.modalBlocks),
  };
  if (spec.submit) view.submit = capped(spec.submit, LIMITS.modalButton);
  if (spec.close) view.close = capped(spec.close, LIMITS.modalButton);
  return view;
}
