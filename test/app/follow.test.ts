import { describe, expect, it } from 'vitest';
import type { JobEvent } from '../../src/domain/events.ts';
import type { JobView } from '../../src/domain/job-view.ts';
import { appPerTest, dealFor } from '../support/harness.ts';
import { REQUESTER } from '../support/people.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';

const TWO_STEPS = pipelineOf(sandbox('database', { resource: 'database' }), sandbox('dns', { resource: 'dns' }, { needs: ['database'] }));

describe('following a job through the service, as the CLI does', () => {
  const start = appPerTest();

  it("hears each of the job's changes as it happens, in order, with the job's view as it then stands", async () => {
    const app = await start({ pipeline: TWO_STEPS });
    const controller = new AbortController();
    const seen: { event: JobEvent; view: JobView | null }[] = [];
    const { job } = await app.service.provision(dealFor(), REQUESTER);

    for await (const change of app.service.follow(job.jobId, { signal: controller.signal, onLost: () => {} })) {
      seen.push(change);
      if (change.event.type === 'step.succeeded' && change.event.stepId === 'dns') controller.abort();
    }

    expect(seen.map((c) => `${c.event.type} ${c.event.stepId ?? ''}`.trim())).toEqual([
      'job.created',
      'step.started database',
      'step.succeeded database',
      'step.started dns',
      'step.succeeded dns',
    ]);
    expect(seen.every((c) => c.event.jobId === job.jobId)).toBe(true);
    expect(seen.at(-1)?.view?.status).toBe('live');
    expect(seen[0]?.view?.steps.map((s) => s.id)).toEqual(['database', 'dns']);
  });

  it('hears nothing of other jobs', async () => {
    const app = await start({ pipeline: TWO_STEPS });
    const [followed, other] = await Promise.all([app.service.provision(dealFor(), REQUESTER), app.service.provision(dealFor(), REQUESTER)]);
    const controller = new AbortController();
    const jobIds = new Set<string>();
    for await (const { event, view } of app.service.follow(followed.job.jobId, { signal: controller.signal, onLost: () => {} })) {
      jobIds.add(event.jobId);
      if (view?.status === 'live') controller.abort();
    }
    expect(other.job.jobId).not.toBe(followed.job.jobId);
    expect([...jobIds]).toEqual([followed.job.jobId]);
  });
});
