/**
 * What the API answers, as zod schemas: the routes shape every body through
 * these (parse before sending), and the OpenAPI document is generated from
 * them, so the document and the answers cannot drift apart.
 */
import { z } from 'zod';
import { JOB_STATUSES, STEP_STATES } from '../../../domain/job.ts';

const JobState = z.enum(JOB_STATUSES).meta({ description: 'Where the job is: running, awaiting_approval, live, failed…' });

export const StepSchema = z.strictObject({
  id: z.string().meta({ description: 'The step, as the pipeline names it.' }),
  label: z.string(),
  state: z.enum(STEP_STATES),
  startedAt: z.iso.datetime().optional(),
  finishedAt: z.iso.datetime().optional(),
});

export const LinksSchema = z.strictObject({
  status: z.url().meta({ description: "This API's address for the job: GET it to follow the job." }),
  admin: z.url().meta({ description: "The job's page in the control room (for people signed in)." }),
  customerStatusPage: z.url().optional().meta({ description: "The customer's status page, once someone has shared one." }),
});

const TenantSchema = z.strictObject({ slug: z.string(), companyName: z.string(), plan: z.string() });

/** The answer to a provisioning request: 202 for a new job, 200 for the job the opportunity already has. */
export const ProvisioningAnswerSchema = z.strictObject({
  jobId: z.string(),
  state: JobState,
  outcome: z.enum(['created', 'existing']).meta({ description: 'created: a new job; existing: the job this opportunity already has.' }),
  tenant: TenantSchema,
  links: LinksSchema,
});

/** A job and its steps (GET /jobs/<id>, and GET /tenants/<slug> for the tenant's newest job). */
export const JobSchema = z.strictObject({
  jobId: z.string(),
  state: JobState,
  tenant: TenantSchema,
  crmOpportunityId: z.string(),
  requestedBy: z.string(),
  requestedAt: z.iso.datetime(),
  progress: z.strictObject({ done: z.int().min(0), total: z.int().min(0) }),
  steps: z.array(StepSchema),
  liveUrl: z.url().optional().meta({ description: "The tenant's address, once it is live." }),
  links: LinksSchema,
});

export const ActivationAnswerSchema = z.strictObject({
  outcome: z.enum(['recorded', 'duplicate']).meta({ description: 'recorded: kept (202); duplicate: this event id came before (200).' }),
});

/** RFC 9457 problem details, with the members this API adds. */
export const ProblemSchema = z.strictObject({
  type: z.string(),
  title: z.string(),
  status: z.int(),
  detail: z.string(),
  errors: z
    .array(z.strictObject({ field: z.string(), detail: z.string() }))
    .optional()
    .meta({ description: 'Every bad field (422): its name and what to do about it.' }),
  differences: z
    .array(z.string())
    .optional()
    .meta({ description: 'The fields in which this request differs from the job holding its opportunity (409).' }),
  jobId: z.string().optional().meta({ description: 'The job that holds the opportunity (409).' }),
});

export type ProvisioningAnswer = z.output<typeof ProvisioningAnswerSchema>;
export type JobAnswer = z.output<typeof JobSchema>;
export type Links = z.output<typeof LinksSchema>;
export type Problem = z.output<typeof ProblemSchema>;
export type ActivationAnswer = z.output<typeof ActivationAnswerSchema>;

/** The response schemas by the name the OpenAPI document gives them. */
export const RESPONSE_SCHEMAS = {
  ProvisioningAnswer: ProvisioningAnswerSchema,
  Job: JobSchema,
  Step: StepSchema,
  Links: LinksSchema,
  Tenant: TenantSchema,
  ActivationAnswer: ActivationAnswerSchema,
  Problem: ProblemSchema,
} as const;
