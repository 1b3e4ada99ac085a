/**
 * Jobs as the API shows them: state, steps with their states, the live URL
 * once live, and links. Shaped through the response schemas (schemas.ts), so
 * what is sent is what the OpenAPI document promises; errors, outputs and
 * people's ids stay in the control room.
 */
import type { FastifyReply } from 'fastify';
import type { JobView, StepView } from '../../../domain/job-view.ts';
import {
  type ActivationAnswer,
  ActivationAnswerSchema,
  type JobAnswer,
  JobSchema,
  type Links,
  type ProvisioningAnswer,
  ProvisioningAnswerSchema,
} from './schemas.ts';

/** Where the links of a job point: this server as the caller reached it (or PUBLIC_URL), and the shared status page if any. */
export function linksOf(jobId: string, origin: string, customerStatusPage: string | undefined): Links {
  const id = encodeURIComponent(jobId);
  return {
    status: `${origin}/api/v1/jobs/${id}`,
    admin: `${origin}/admin/jobs/${id}`,
    ...(customerStatusPage ? { customerStatusPage } : {}),
  };
}

export function provisioningAnswer(view: JobView, outcome: 'created' | 'existing', links: Links): ProvisioningAnswer {
  return ProvisioningAnswerSchema.parse({ jobId: view.jobId, state: view.status, outcome, tenant: tenantOf(view), links });
}

export function jobAnswer(view: JobView, links: Links): JobAnswer {
  return JobSchema.parse({
    jobId: view.jobId,
    state: view.status,
    tenant: tenantOf(view),
    crmOpportunityId: view.crmOpportunityId,
    requestedBy: view.requestedBy,
    requestedAt: new Date(view.requestedAt).toISOString(),
    progress: view.progress,
    steps: view.steps.map(stepOf),
    ...(view.status === 'live' ? { liveUrl: view.tenant.tenantUrl } : {}),
    links,
  });
}

function tenantOf(view: JobView) {
  return { slug: view.tenant.slug, companyName: view.tenant.companyName, plan: view.tenant.planId };
}

function stepOf(step: StepView) {
  return {
    id: step.id,
    label: step.label,
    state: step.state,
    ...(step.startedAt !== undefined ? { startedAt: new Date(step.startedAt).toISOString() } : {}),
    ...(step.finishedAt !== undefined ? { finishedAt: new Date(step.finishedAt).toISOString() } : {}),
  };
}

/** Sends an answer already shaped through its schema (a body the document does not describe is our bug, never sent). */
export function sendJson(reply: FastifyReply, status: number, body: JobAnswer | ProvisioningAnswer | ActivationAnswer): FastifyReply {
  return reply.code(status).type('application/json').header('cache-control', 'no-store').send(body);
}

export function activationAnswer(outcome: 'recorded' | 'duplicate'): ActivationAnswer {
  return ActivationAnswerSchema.parse({ outcome });
}
