/**
 * The lifecycle verbs on the command line: suspend, reactivate, change-plan,
 * decommission. Each starts one job (or finds the one the same request
 * started) through the same service as Slack and follows it until it is done
 * or waits for a person (an approval), then prints it and what comes next;
 * --no-follow returns at once, leaving the job to the workers.
 */
import type { Command } from 'commander';
import type { App } from '../compose.ts';
import type { LifecycleAsk, LifecycleResult } from '../app/lifecycle.ts';
import type { JobView } from '../domain/job-view.ts';
import type { Identity } from '../domain/policy.ts';

type Output = {
  follow: (app: App, jobId: string, opts: { print: (line: string) => void; waitThrough?: readonly JobView['status'][] }) => Promise<JobView>;
  printJob: (view: JobView) => void;
};

export type LifecycleCommandDeps = {
  withApp: <T>(runWorkers: boolean, work: (app: App, output: Output) => Promise<T>) => Promise<T>;
  actor: () => Identity;
  print: (line: string) => void;
};

type VerbOptions = { reason: string; requestId?: string; follow: boolean; plan?: string };

type Verb = {
  name: string;
  describe: string;
  ask: (app: App, slug: string, who: Identity, ask: LifecycleAsk, o: VerbOptions) => Promise<LifecycleResult>;
  plan?: boolean;
};

const VERBS: readonly Verb[] = [
  {
    name: 'suspend',
    describe: 'block sign-in for a live tenant and mark it suspended; its data is kept (an approver agrees first)',
    ask: (app, slug, who, ask) => app.service.lifecycle.suspend(slug, who, ask),
  },
  {
    name: 'reactivate',
    describe: 'allow sign-in again for a suspended tenant and mark it live',
    ask: (app, slug, who, ask) => app.service.lifecycle.reactivate(slug, who, ask),
  },
  {
    name: 'change-plan',
    describe: 'move a live tenant to another plan: its flags, limits and subscription follow (a downgrade below usage needs approval)',
    ask: (app, slug, who, ask, o) => app.service.lifecycle.changePlan(slug, o.plan ?? '', who, ask),
    plan: true,
  },
  {
    name: 'decommission',
    describe: 'after approval and a grace period, export the tenant’s data and remove everything provisioned for it',
    ask: (app, slug, who, ask) => app.service.lifecycle.decommission(slug, who, ask),
  },
];

export function addLifecycleCommands(program: Command, deps: LifecycleCommandDeps): void {
  for (const verb of VERBS) {
    const command = program
      .command(`${verb.name} <tenant>`)
      .description(verb.describe)
      .requiredOption('--reason <text>', 'why (goes in the audit trail)')
      .option('--request-id <id>', 'your id for this request: the same id again finds the same job')
      .option('--no-follow', 'create the job and return without following it');
    if (verb.plan) command.requiredOption('--plan <plan>', 'the plan to move to');
    command.action(async (slug: string, o: VerbOptions) =>
      deps.withApp(o.follow, async (app, { follow, printJob }) => {
        const ask: LifecycleAsk = { reason: o.reason, ...(o.requestId !== undefined ? { requestKey: o.requestId } : {}) };
        const { outcome, job } = await verb.ask(app, slug, deps.actor(), ask, o);
        deps.print(outcome === 'created' ? `Job ${job.jobId} created.` : `The same request already has job ${job.jobId}; showing it.`);
        const final = o.follow ? await follow(app, job.jobId, { print: deps.print }) : job;
        printJob(final);
      }),
    );
  }
}
