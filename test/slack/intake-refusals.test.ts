/**
 * An AE submits the intake modal with a deal the bot must not take as it is:
 * the answer comes back on the field to fix, in the modal, and nothing is
 * created.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CALLBACKS, INTAKE_BLOCKS } from '../../src/slack/blocks/index.ts';
import { dealFor } from '../support/harness.ts';
import { AE, intakeValues, type SlackTestApp, startSlackApp, stopSlackApp } from '../support/slack-app.ts';
import { interactionBody, viewSubmissionPayload } from '../support/slack-signing.ts';
import { sender } from '../support/slack-story.ts';
import { REQUESTER } from '../support/people.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';

const PIPELINE = pipelineOf(sandbox('database', { latencyMs: 10, resource: 'database' }));

type Values = ReturnType<typeof intakeValues>;

function submit(s: SlackTestApp, values: Values) {
  const payload = viewSubmissionPayload({
    userId: AE.id,
    userName: AE.name,
    callbackId: CALLBACKS.intake,
    privateMetadata: JSON.stringify({ channel: 'C0SALES' }),
    values,
  });
  return sender(s)(interactionBody(payload));
}

describe('the intake modal refuses on the field to fix', () => {
  let s: SlackTestApp | undefined;
  afterEach(async () => {
    await stopSlackApp(s);
    s = undefined;
  });

  it("a CRM opportunity already used for another customer is refused on the opportunity field, naming that customer's tenant", async () => {
    s = await startSlackApp({ pipeline: PIPELINE });
    const initech = dealFor({ companyName: 'Initech' });
    const { job } = await s.app.service.provision(initech, REQUESTER);

    const globex = dealFor({ companyName: 'Globex Inc', crmOpportunityId: initech['crmOpportunityId'] });
    const res = await submit(s, intakeValues(globex));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({
      response_action: 'errors',
      errors: {
        [INTAKE_BLOCKS.crmOpportunityId.blockId]:
          `Opportunity ${String(initech['crmOpportunityId'])} already belongs to tenant ${job.tenant.slug} (Initech, job ${job.jobId}); ` +
          'this request differs in company name and slug. Check the opportunity id, or send the same details to follow that job.',
      },
    });
    expect((await s.app.store.findJobs({ limit: 10 })).map((j) => j.view.jobId)).toEqual([job.jobId]);
  });

  it('a company name with no Latin letters and no slug, or an unanswered residency, is asked for instead of guessed', async () => {
    s = await startSlackApp({ pipeline: PIPELINE });
    const kabushiki = await submit(s, intakeValues(dealFor({ companyName: '株式会社', slug: '' })));
    expect(JSON.parse(kabushiki.body)).toEqual({
      response_action: 'errors',
      errors: {
        [INTAKE_BLOCKS.slug.blockId]:
          'No slug can be suggested from "株式会社" (a hostname needs Latin letters or digits); choose a slug of lowercase letters, digits and hyphens',
      },
    });

    const { blockId, actionId } = INTAKE_BLOCKS.dataResidency;
    const unanswered = { ...intakeValues(dealFor()), [blockId]: { [actionId]: { type: 'static_select', selected_option: null } } };
    const residency = await submit(s, unanswered);
    expect(JSON.parse(residency.body)).toEqual({ response_action: 'errors', errors: { [blockId]: 'Choose a data residency: us, eu, uk, au' } });
    expect(await s.app.store.findJobs({ limit: 10 })).toEqual([]);
  });
});
