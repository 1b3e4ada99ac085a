/**
 * Follows jobs in #onboarding: one progress message per job, edited in place
 * (coalesced to about one edit per second per job, within a global budget),
 * and the events that need people threaded under it. It runs in its own
 * consumer group, so waiting on Slack (or on a 429) delays only Slack.
 *
 * Thread replies are not lost to a Slack hiccup: a post Slack fails is tried
 * again (./delivery.ts) before the next one, so they stay in order, and each
 * is recorded once posted, so events read again never post it twice. One
 * Slack will not take within the retry budget is logged loudly and skipped.
 */
import type { WebClient } from '@slack/web-api';
import type { JobEvent } from '../../domain/events.ts';
import type { JobView, StepView } from '../../domain/job-view.ts';
import type { JobNotifier } from '../../ports/notifier.ts';
import {
  approvalRequest,
  completed,
  reminderLine,
  eventLine,
  inputRequested,
  progressMessage,
  rollbackUpdate,
  stepFailed,
  type Approvers,
  type SlackMessage,
} from '../../slack/blocks/index.ts';
import { deliver, SlackDeliveryError, type RetryPolicy } from './delivery.ts';
import type { RateLimiter } from './limiter.ts';
import type { MessageRef, MessageRefs } from './message-refs.ts';

export type SlackNotifierOptions = {
  client: WebClient;
  channel: string;
  approvers: Approvers;
  refs: MessageRefs;
  posts: RateLimiter;
  updates: RateLimiter;
  /** Least time between two edits of one job's message. */
  minEditIntervalMs?: number;
  /** How hard to try a post Slack fails with "try again" (default: about 45 s in all). */
  retry?: RetryPolicy;
  onError(err: unknown): void;
};

const auditCommand = (view: JobView) => `/provision audit ${view.tenant.slug}`;

export class SlackNotifier implements JobNotifier {
  private readonly opts: SlackNotifierOptions;
  /** Latest view of each job whose message is behind. */
  private readonly dirty = new Map<string, JobView>();
  private readonly lastEdit = new Map<string, number>();
  private readonly editing = new Set<string>();
  /** The seq of the view each job's message shows, as this process last posted or edited it. */
  private readonly shown = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(opts: SlackNotifierOptions) {
    this.opts = opts;
  }

  async jobChanged(view: JobView, events: readonly JobEvent[]): Promise<void> {
    const replies = events.flatMap((event) => {
      const reply = threadReply(view, event, this.opts.approvers);
      return reply ? [{ key: replyKey(event), reply }] : [];
    });
    const ref = await this.progressRef(view, replies.length);
    for (const { key, reply } of replies) {
      const what = `the thread reply "${summary(reply)}" for job ${view.jobId}`;
      // One Slack will not take is reported and skipped: the replies after it still go out, in order.
      // Anything else (Redis away) fails the batch, which is handled again: replyOnce posts each reply once.
      await this.opts.refs
        .replyOnce(view.jobId, key, () => this.deliver(what, () => this.post({ ...reply, thread_ts: ref.ts })))
        .catch((err: unknown) => {
          if (!(err instanceof SlackDeliveryError)) throw err;
          this.opts.onError(err);
        });
    }
    // A notifier that lags gets the same (current) view for several batches: the message already shows it.
    if ((this.shown.get(view.jobId) ?? -1) >= view.seq) return;
    this.dirty.set(view.jobId, view);
    this.schedule();
  }

  /** Sends what is still pending, then stops editing. */
  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush(true);
  }

  /** The job's progress message, posted if need be; without it there is no thread to reply in. */
  private async progressRef(view: JobView, replies: number): Promise<MessageRef> {
    const what = `the progress message for job ${view.jobId}`;
    return this.deliver(what, () => this.opts.refs.getOrPost(view.jobId, () => this.postProgress(view))).catch((err: unknown) => {
      if (!(err instanceof SlackDeliveryError) || replies === 0) throw err;
      throw new SlackDeliveryError(`${err.message}; ${replies} thread repl${replies === 1 ? 'y' : 'ies'} for it are lost`, { cause: err });
    });
  }

  private deliver<T>(what: string, post: () => Promise<T>): Promise<T> {
    return deliver(what, post, this.opts.retry);
  }

  private async postProgress(view: JobView): Promise<MessageRef> {
    await this.opts.posts.take();
    const message = progressMessage(view, { auditCommand: auditCommand(view) });
    const result = await this.opts.client.chat.postMessage({ channel: this.opts.channel, ...message });
    if (!result.ts || !result.channel) throw new Error('Slack did not return the progress message ts');
    this.lastEdit.set(view.jobId, Date.now());
    this.shown.set(view.jobId, view.seq);
    return { channel: result.channel, ts: result.ts };
  }

  private async post(message: SlackMessage & { thread_ts: string }): Promise<void> {
    await this.opts.posts.take();
    await this.opts.client.chat.postMessage({ channel: this.opts.channel, ...message });
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush(false).catch(this.opts.onError);
    }, 100);
  }

  private async flush(all: boolean): Promise<void> {
    const interval = this.opts.minEditIntervalMs ?? 1000;
    const now = Date.now();
    const due = [...this.dirty.entries()].filter(([jobId]) => !this.editing.has(jobId) && (all || now - (this.lastEdit.get(jobId) ?? 0) >= interval));
    await Promise.all(due.map(([jobId, view]) => this.edit(jobId, view)));
    if (this.dirty.size > 0 && !all) this.schedule();
  }

  private async edit(jobId: string, view: JobView): Promise<void> {
    this.editing.add(jobId);
    this.dirty.delete(jobId);
    try {
      const ref = await this.opts.refs.get(jobId);
      if (!ref) return;
      await this.opts.updates.take();
      await this.opts.client.chat.update({ channel: ref.channel, ts: ref.ts, ...progressMessage(view, { auditCommand: auditCommand(view) }) });
      this.lastEdit.set(jobId, Date.now());
      this.shown.set(jobId, view.seq);
    } catch (err) {
      this.opts.onError(err);
    } finally {
      this.editing.delete(jobId);
    }
  }
}

/** Names a reply among its job's: the event's place in the job's history (the closing "live" event has none, and happens once). */
function replyKey(event: JobEvent): string {
  return event.seq !== undefined ? String(event.seq) : event.type;
}

/** The start of a reply's text, to say in a log which one went missing. */
function summary(reply: SlackMessage): string {
  return reply.text.length > 120 ? `${reply.text.slice(0, 119)}…` : reply.text;
}

function stepOf(view: JobView, event: JobEvent): StepView | undefined {
  return view.steps.find((s) => s.id === event.stepId);
}

/** Which events deserve a reply in the thread; progress covers the rest. */
function threadReply(view: JobView, event: JobEvent, approvers: Approvers): SlackMessage | null {
  const step = stepOf(view, event);
  const audit = { auditCommand: auditCommand(view) };
  switch (event.type) {
    case 'step.waiting_approval':
      return step ? approvalRequest(view, step, approvers, audit) : null;
    case 'step.waiting_input':
      return step ? inputRequested(view, step, audit) : null;
    case 'step.failed':
      if (!step) return null;
      return step.criticality === 'blocking' && event.phase !== 'compensate' ? stepFailed(view, step, audit) : eventLine(view, event);
    case 'job.rollback_started':
    case 'job.rollback_retried':
    case 'step.compensated':
    case 'step.compensation_failed':
      return rollbackUpdate(view, event, audit);
    case 'job.live':
      return completed(view, audit);
    case 'step.reminder':
      return view.status === 'running' ? reminderLine(view, event) : null;
    case 'step.approved':
    case 'step.rejected':
    case 'step.overridden':
    case 'step.retried':
    case 'step.input_provided':
    case 'job.cancelled':
      return eventLine(view, event);
    default:
      return null;
  }
}
