/** The Slack surface's Block Kit layer: pure builders and parsers, no Slack calls. */
export * from './actions.ts';
export * from './billing.ts';
export * from './dialogs.ts';
export * from './elements.ts';
export * from './intake-modal.ts';
export * from './job-lines.ts';
export * from './progress.ts';
export * from './responses.ts';
export * from './state.ts';
export * from './stats.ts';
export * from './text.ts';
export * from './thread.ts';
export * from './limits.ts';
export * from './lifecycle-modal.ts';
export * from './pending-intake.ts';
export * from './preview.ts';
