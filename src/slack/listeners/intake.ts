/** The intake modal: re-rendered when the AE picks a plan, validated field by field on submit. */
import type { App } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { InvalidInputError } from '../../domain/errors.ts';
import { parseIntake } from '../../domain/intake.ts';
import {
  CALLBACKS,
  INTAKE_BLOCKS,
  intakeErrors,
  intakeModal,
  PREVIEW_ACTION,
  previewModal,
  previewProblemsModal,
  provisionConfirmation,
  readIntakeSubmission,
} from '../blocks/index.ts';
import { tellWhyNot, type ListenerDeps } from './deps.ts';

/** How long a submission may take before the modal closes and the answer comes as a message instead. */
const ANSWER_IN_MODAL_MS = 2000;

/** A string field of the modal's private metadata (the channel it was opened in; the pending intake it completes). */
function metadataField(privateMetadata: string, field: 'channel' | 'pendingIntake'): string | undefined {
  try {
    const parsed: unknown = JSON.parse(privateMetadata);
    const value = parsed !== null && typeof parsed === 'object' ? Reflect.get(parsed, field) : undefined;
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

export function registerIntake(app: App, deps: ListenerDeps): void {
  app.action(INTAKE_BLOCKS.plan.actionId, async ({ ack, body, client }) => {
    await ack();
    if (body.type !== 'block_actions' || !body.view) return;
    const planValue = body.view.state.values[INTAKE_BLOCKS.plan.blockId]?.[INTAKE_BLOCKS.plan.actionId]?.selected_option?.value;
    const view = intakeModal({
      plans: deps.manifests.plans,
      privateMetadata: body.view.private_metadata,
      ...(planValue ? { selectedPlan: planValue } : {}),
    });
    await client.views.update({ view_id: body.view.id, hash: body.view.hash, view });
  });

  // Preview: the intake as filled in so far, planned like provision would, pushed over the modal; nothing is stored.
  app.action(PREVIEW_ACTION, async ({ ack, body, client }) => {
    await ack();
    if (body.type !== 'block_actions' || !body.view) return;
    const actor = await deps.people.identify(body.user.id, body.user.name ?? body.user.id);
    const raw = readIntakeSubmission(body.view.state.values, deps.manifests.plans, actor.name);
    let view: ReturnType<typeof previewModal>;
    try {
      view = previewModal(deps.service.preview(raw, actor));
    } catch (err) {
      if (!(err instanceof InvalidInputError)) throw err;
      view = previewProblemsModal(err.problems);
    }
    await client.views.push({ trigger_id: body.trigger_id, view });
  });

  app.view(CALLBACKS.intake, async ({ ack, body, view, client }) => {
    const actor = await deps.people.identify(body.user.id, body.user.name);
    const raw = readIntakeSubmission(view.state.values, deps.manifests.plans, actor.name);
    const parsed = parseIntake(raw, deps.manifests.plans);
    if (!parsed.ok) {
      await ack({ response_action: 'errors', errors: intakeErrors(parsed.errors) });
      return;
    }
    const where = { channel: metadataField(view.private_metadata, 'channel'), user: body.user.id };
    // Opened from "Complete in Slack": the same intake, which also resolves the deal the CRM sent.
    const pending = metadataField(view.private_metadata, 'pendingIntake');
    const provisioning = pending !== undefined && deps.crm ? deps.crm.complete(pending, raw, actor) : deps.service.provision(raw, actor);
    const early = await Promise.race([
      provisioning.then(
        () => 'done' as const,
        () => 'done' as const,
      ),
      delay(ANSWER_IN_MODAL_MS),
    ]);
    if (early === 'done') {
      const failure = await provisioning.then(
        () => null,
        (err: unknown) => err,
      );
      if (failure instanceof InvalidInputError) {
        await ack({ response_action: 'errors', errors: intakeErrors(failure.problems) });
        return;
      }
    }
    await ack();
    await confirm(client, deps, where, provisioning);
  });
}

function delay(ms: number): Promise<'late'> {
  return new Promise((resolve) => setTimeout(() => resolve('late'), ms));
}

async function confirm(
  client: WebClient,
  deps: ListenerDeps,
  where: { channel: string | undefined; user: string },
  provisioning: ReturnType<ListenerDeps['service']['provision']>,
): Promise<void> {
  try {
    const { outcome, job } = await provisioning;
    const progressUrl = await deps.progressUrl(job.jobId);
    if (!where.channel) return;
    const confirmation = provisionConfirmation({ outcome, slug: job.tenant.slug, channel: deps.channel, progressUrl });
    await client.chat.postEphemeral({ channel: where.channel, user: where.user, ...confirmation });
  } catch (err) {
    await tellWhyNot(client, where, err);
  }
}
