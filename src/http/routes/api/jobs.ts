/**
 * GET /api/v1/jobs/<id> and GET /api/v1/tenants/<slug> — how a job is coming
 * along: its state, its steps with theirs, and the tenant's address once live.
 * A tenant answers with its newest job.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ProvisioningService } from '../../../app/services.ts';
import type { JobView } from '../../../domain/job-view.ts';
import { typedBack } from '../../../domain/wording.ts';
import { jobAnswer, linksOf, sendJson } from './answers.ts';
import { sendProblem } from './problems.ts';
import type { CallerOf } from './v1.ts';

export type JobRouteDeps = {
  service: ProvisioningService;
  callerOf: CallerOf;
  origin(request: FastifyRequest): string;
};

export const jobRoutes: FastifyPluginAsync<JobRouteDeps> = async (api, deps) => {
  const answer = async (request: FastifyRequest, reply: FastifyReply, job: JobView) => {
    const page = await deps.service.sharedStatusPage(job.jobId, deps.callerOf(request));
    return sendJson(reply, 200, jobAnswer(job, linksOf(job.jobId, deps.origin(request), page)));
  };

  api.get<{ Params: { jobId: string } }>('/jobs/:jobId', async (request, reply) => {
    const job = await deps.service.jobView(request.params.jobId);
    if (job) return answer(request, reply, job);
    return sendProblem(reply, { status: 404, title: 'Not Found', detail: `There is no job "${typedBack(request.params.jobId)}".` });
  });

  api.get<{ Params: { slug: string } }>('/tenants/:slug', async (request, reply) => {
    const job = await deps.service.tenantJob(request.params.slug);
    if (job) return answer(request, reply, job);
    return sendProblem(reply, { status: 404, title: 'Not Found', detail: `There is no tenant "${typedBack(request.params.slug)}".` });
  });
};
