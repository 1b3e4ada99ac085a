#!/usr/bin/env node
/**
 * `provisioner`: the command-line door to the same services the Slack
 * buttons call. Run with `npx provisioner <command>` or `node src/cli/main.ts`.
 * The command line is parsed and checked first; only a command that needs the
 * app composes it (starting local servers when none are configured, see
 * local-services.ts), so help, --version and usage errors answer at once.
 * The app's modules are loaded the same way, when a command needs them.
 */
import { Command, CommanderError, Option } from 'commander';
import { ZodError } from 'zod';
import packageJson from '../../package.json' with { type: 'json' };
import type { App, ComposeOptions } from '../compose.ts';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { ActionRefusedError, InvalidInputError } from '../domain/errors.ts';
import type { JobView } from '../domain/job-view.ts';
import { printable } from '../domain/text-safety.ts';
import { WORKER_ROLES, type WorkerRole } from '../domain/worker-roles.ts';
import { ManifestError } from '../manifests/problems.ts';
import type { follow } from './follow.ts';
import { addLifecycleCommands } from './lifecycle-commands.ts';
import { withLocalServers } from './local-services.ts';
import { operatorIdentity } from './operator.ts';
import { intakeFromOptions, withIntakeOptions, type IntakeOptions } from './intake-options.ts';
import { jsonOption, nameAllMissingOptions, rolesOption, serveRolesOption } from './usage.ts';

// Names, reasons and errors come from people and older stored jobs: no escape sequence or bidi control reaches the terminal.
const print = (line: string) => process.stdout.write(`${line.split('\n').map(printable).join('\n')}\n`);
// Piped into `head`, the reader may leave early: that is not an error worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

/** Exit codes: 0 done (tenant live for provision), 1 not live / failed, 2 bad input (a mistyped command line too), 3 refused. */
const EXIT = { ok: 0, notLive: 1, badInput: 2, refused: 3 } as const;

/** The app, for a command that needs it: local servers first when none are configured, then the composition root. */
async function composeApp(config: Config, options: ComposeOptions): Promise<App> {
  const [servers, { compose }] = await Promise.all([withLocalServers(config), import('../compose.ts')]);
  return compose(servers.config, options);
}

/** How commands show a job: loaded with the app (they need date formatting and the event reader), never for help. */
type JobOutput = { follow: typeof follow; nextSteps: (view: JobView) => string[]; printJob: (view: JobView) => void };

async function loadJobOutput(): Promise<JobOutput> {
  const [{ follow }, { jobText, nextSteps }] = await Promise.all([import('./follow.ts'), import('./render.ts')]);
  const printJob = (view: JobView): void => {
    for (const l of jobText(view)) print(l);
    const next = nextSteps(view);
    if (next.length > 0) print('\nNext:');
    for (const l of next) print(`  ${l}`);
  };
  return { follow, nextSteps, printJob };
}

async function withApp<T>(
  config: Config,
  runWorkers: boolean,
  work: (app: App, output: JobOutput) => Promise<T>,
  more: Omit<ComposeOptions, 'runWorkers'> = {},
): Promise<T> {
  const output = await loadJobOutput();
  const app = await composeApp(config, { runWorkers, ...more });
  try {
    return await work(app, output);
  } finally {
    await app.close();
  }
}

type ActOptions = { step?: string; reason?: string; json?: unknown; follow?: boolean };

export function buildProgram(config: Config): Command {
  const program = new Command('provisioner')
    .description('Provision customer tenants: a deal closes, a tenant goes live.')
    .version(packageJson.version, '-V, --version', 'print the version')
    // Commander throws instead of exiting (the subcommands inherit it): main() turns usage errors into exit 2.
    .exitOverride();
  const actor = () => operatorIdentity(config, program.opts<{ as?: string }>().as);
  program.addOption(new Option('--as <name>', 'your name in the audit trail').default(undefined, config.operator));

  withIntakeOptions(program.command('provision').description('create a tenant from business fields and follow it until it is live'))
    .option('--no-follow', 'create the job and return without following it')
    .option('--no-worker', 'only create the job; a separate `provisioner worker` runs it')
    .action(async (o: IntakeOptions & { follow: boolean; worker: boolean }) => {
      const raw = await intakeFromOptions(o, actor().name);
      const code = await withApp(config, o.worker, async (app, { follow, nextSteps, printJob }) => {
        const { outcome, job } = await app.service.provision(raw, actor());
        print(
          outcome === 'created'
            ? `Job ${job.jobId} created for ${job.tenant.companyName}.`
            : `Opportunity ${o.opportunity} already has job ${job.jobId}; following it.`,
        );
        if (!o.follow) return EXIT.ok;
        const final = await follow(app, job.jobId, {
          print,
          waitThrough: ['awaiting_approval', 'awaiting_input'],
          onWaiting: (v) => {
            for (const l of nextSteps(v)) print(`  ↳ ${l}`);
          },
        });
        print('');
        printJob(final);
        return final.status === 'live' ? EXIT.ok : EXIT.notLive;
      });
      process.exitCode = code;
    });

  program
    .command('status <tenant>')
    .description('show a job by tenant slug, company name or job id')
    .action(async (ref: string) => withApp(config, false, async (app, { printJob }) => printJob(await app.service.status(ref))));

  program
    .command('audit <tenant>')
    .description('the audit trail in plain language')
    .option('--verbose', 'include routine entries (step started, polling)')
    .action(async (ref: string, o: { verbose?: boolean }) =>
      withApp(config, false, async (app) => {
        const { job, lines } = await app.service.audit(ref, { verbose: o.verbose ?? false });
        print(`Audit trail for ${job.tenant.companyName} (${job.tenant.slug})`);
        for (const l of lines) print(l);
      }),
    );

  program
    .command('list')
    .description('jobs that are running, waiting or failed')
    .action(async () =>
      withApp(config, false, async (app) => {
        const jobs = await app.service.list();
        if (jobs.length === 0) print('No active jobs.');
        for (const j of jobs) print(`${j.tenant.slug.padEnd(24)} ${j.status.padEnd(18)} ${j.progress.done}/${j.progress.total}  ${j.jobId}`);
      }),
    );

  program
    .command('stats')
    .description('signed-to-live KPIs: time to live, step failures, handoffs, approval waits, first use')
    .action(async () =>
      withApp(config, false, async (app) => {
        const { statsText } = await import('./stats.ts');
        for (const line of statsText(await app.kpis.report(actor()))) print(line);
      }),
    );

  program
    .command('drift [tenant]')
    .description('paid but not enabled, and enabled but not paid: one tenant, or every live and suspended one')
    .action(async (slug: string | undefined) =>
      withApp(config, false, async (app) => {
        const { driftText } = await import('./drift.ts');
        const reports = slug === undefined ? await app.billing.drifting() : [await app.billing.drift(slug)];
        for (const line of driftText(reports, slug)) print(line);
      }),
    );

  const act = (name: string, describe: string, run: (app: App, ref: string, o: ActOptions) => Promise<JobView>) =>
    program
      .command(`${name} <tenant>`)
      .description(describe)
      .option('--step <id>', 'the step (default: the only one it can apply to)')
      .option('--reason <text>', 'why (required for reject, override, rollback, cancel)')
      .option('--json <input>', 'input for a waiting step, as JSON', jsonOption)
      .option('--follow', 'follow the job afterwards until it settles')
      .action(async (ref: string, o: ActOptions) =>
        withApp(config, o.follow === true, async (app, { follow, printJob }) => {
          const view = await run(app, ref, o);
          const final = o.follow === true ? await follow(app, view.jobId, { print }) : view;
          printJob(final);
        }),
      );

  act('approve', 'approve a job waiting for approval', (app, ref, o) => app.service.approve(ref, actor(), o.step));
  act('reject', 'reject a job waiting for approval', (app, ref, o) => app.service.reject(ref, actor(), o.reason ?? '', o.step));
  act('retry', 'retry a failed step (the job resumes from it)', (app, ref, o) => app.service.retry(ref, actor(), o.step));
  act('override', 'mark a step done by hand, with a reason', (app, ref, o) => app.service.override(ref, actor(), o.step ?? '', o.reason ?? ''));
  act('rollback', 'undo completed steps in reverse dependency order', (app, ref, o) => app.service.rollback(ref, actor(), o.reason ?? ''));
  act('cancel', 'stop a job; nothing new starts', (app, ref, o) => app.service.cancel(ref, actor(), o.reason ?? ''));
  act('input', 'give a waiting step the input it needs', (app, ref, o) => app.service.provideInput(ref, actor(), o.json ?? {}, o.step));

  addLifecycleCommands(program, { withApp: (runWorkers, work) => withApp(config, runWorkers, work), actor, print });

  program
    .command('worker')
    .description('run step workers until stopped (Ctrl-C finishes running steps first)')
    .addOption(
      new Option('--roles <list>', `what this process does, comma-separated: ${WORKER_ROLES.join(', ')} (each may run in processes of its own)`)
        .argParser(rolesOption)
        .default([...WORKER_ROLES], WORKER_ROLES.join(',')),
    )
    .action(async (o: { roles: WorkerRole[] }) => {
      const app = await composeApp(config, { runWorkers: true, roles: o.roles });
      const { metricsPort, http } = config.observability;
      const { createHttpServer, listen } = await import('../http/server.ts');
      // Its own small server: GET /metrics for Prometheus, GET /healthz for the orchestrator.
      const server = metricsPort > 0 ? createHttpServer({ health: app.health, metrics: app.metrics, logger: app.logger }) : undefined;
      const port = server ? await listen(server, { host: http.host, port: metricsPort, variable: 'METRICS_PORT' }).catch(closing(app)) : undefined;
      print(
        `Worker running (${o.roles.join(', ')}; queue prefix ${config.queuePrefix}, concurrency ${config.workerConcurrency}${port ? `, metrics on port ${port}` : ''}). Ctrl-C to stop.`,
      );
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      print('Stopping: waiting for running steps to finish…');
      await server?.close();
      await app.close();
    });

  program
    .command('serve')
    .description('run the control room (web), the Slack bot when SLACK_MODE is on, and step workers')
    .addOption(
      new Option(
        '--roles <list>',
        `the worker roles this process runs too, comma-separated: ${WORKER_ROLES.join(', ')}; or none, when \`provisioner worker\` processes run them`,
      )
        .argParser(serveRolesOption)
        .default([...WORKER_ROLES], WORKER_ROLES.join(',')),
    )
    .action(async (o: { roles: WorkerRole[] }) => {
      const app = await composeApp(config, { runWorkers: o.roles.length > 0, roles: o.roles, serveSlack: config.slack !== null, serveWeb: true });
      if (!app.web) throw new Error('the web control room was not composed');
      const url = await app.web.listen().catch(closing(app));
      await app.slack?.start();
      print(`Control room: ${url}/admin (health ${url}/healthz, metrics ${url}/metrics).`);
      print(`Worker roles: ${o.roles.length > 0 ? o.roles.join(', ') : 'none (provisioner worker processes run the steps, recorder and notifier)'}.`);
      if (config.slack) print(`Slack: ${config.slack.mode === 'http' ? `requests at ${url}/slack/events` : 'Socket Mode connected'}.`);
      if (config.profile === 'local') print(`Sign in once with: ${await app.web.signInLink(config.operator)}`);
      print('Ctrl-C to stop.');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await app.close();
    });

  const apiToken = program.command('api-token').description('tokens of programs that call the HTTP API (prints the API_CALLERS value to set)');
  apiToken
    .command('create <caller>')
    .description('make a new token for an API caller and print the API_CALLERS value that accepts it (the token itself is never stored)')
    .action(async (caller: string) => {
      const { apiTokenText } = await import('./api-token.ts');
      for (const line of apiTokenText(config.apiCallers, caller)) print(line);
    });
  apiToken
    .command('rotate <caller>')
    .description('make a new token for a configured caller; the API_CALLERS value keeps its current token valid beside it until revoked')
    .action(async (caller: string) => {
      const { rotateTokenText } = await import('./api-token.ts');
      for (const line of rotateTokenText(config.apiCallers, caller)) print(line);
    });
  apiToken
    .command('revoke <caller>')
    .description("print the API_CALLERS value without the caller's older token (or the one --hash names); without tokens left, without the caller")
    .option('--hash <sha256:hex>', 'the hash of the token to revoke (default: the one being replaced, else the only one)')
    .action(async (caller: string, opts: { hash?: string }) => {
      const { revokeTokenText } = await import('./api-token.ts');
      for (const line of revokeTokenText(config.apiCallers, caller, opts.hash)) print(line);
    });

  program
    .command('admin-link')
    .description('print a one-time sign-in link to the control room for a configured operator (--as), valid for an hour')
    .action(async () =>
      withApp(
        config,
        false,
        async (app) => {
          const who = actor();
          const web = app.web;
          if (!web) throw new Error('the web control room was not composed');
          print(`One-time sign-in link for ${who.name} (valid for an hour): ${await web.signInLink(who.name)}`);
        },
        { serveWeb: true },
      ),
    );

  withIntakeOptions(
    program
      .command('plan')
      .description('dry run of provision with the same options: what it would create, where, and who must approve (writes nothing)'),
  )
    .option('--json', 'print the preview as JSON')
    .action(async (o: IntakeOptions & { json?: boolean }) => {
      // Like seed-plan, a dry run reads only the manifests and the configuration: nothing is started.
      const [raw, { planText }] = await Promise.all([intakeFromOptions(o, actor().name), import('./plan.ts')]);
      for (const line of await planText(config, raw, actor(), o.json === true)) print(line);
      process.exitCode = EXIT.ok;
    });

  program
    .command('seed-plan <plan>')
    .description("dry run of a tenant's data on a plan: database, collections, seed records, schema problems (writes nothing)")
    .option('--slug <slug>', 'tenant slug to show names for', 'sample-co')
    .action(async (planId: string, o: { slug: string }) => {
      // A dry run reads only the manifests: no servers, and none of the app's other modules.
      const [{ loadManifests }, { stepTypes }, { seedPlanText }] = await Promise.all([
        import('../manifests/load.ts'),
        import('../steps/registry.ts'),
        import('./seed-plan.ts'),
      ]);
      const manifests = loadManifests({ manifestsDir: config.manifestsDir, seedDir: config.seedDir, stepTypes, sampleTenantSettings: config.tenant });
      const { lines, ok } = seedPlanText(manifests, config.tenant, planId, o.slug);
      for (const l of lines) print(l);
      process.exitCode = ok ? EXIT.ok : EXIT.badInput;
    });

  program
    .command('demo')
    .description('provision the demo tenant Acme Corp (enterprise) on local services and show its audit trail')
    .option('--serve', 'then keep the control room running with the demo job in it (Ctrl-C to stop)')
    .action(async (o: { serve?: boolean }) => {
      const [servers, { runDemo }] = await Promise.all([withLocalServers(config), import('./demo.ts')]);
      const untilStopped = () =>
        new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
      process.exitCode = await runDemo(servers.config, print, servers.env, o.serve ? { untilStopped } : undefined);
    });

  nameAllMissingOptions(program);
  // Set last, so only the top level has it: an unknown or empty command (`provisioner ""`) says where the list is.
  program.showHelpAfterError('(provisioner --help lists the commands)');
  return program;
}

/** A start that failed after the app was built: close it, then let the error through. */
function closing(app: App): (err: unknown) => Promise<never> {
  return async (err) => {
    await app.close();
    throw err;
  };
}

function explain(err: unknown): number {
  if (err instanceof InvalidInputError) {
    print('That input is not valid:');
    for (const p of err.problems) print(`  ${p.field}: ${p.message}`);
    return EXIT.badInput;
  }
  if (err instanceof ActionRefusedError) {
    print(`Not done: ${err.message}`);
    return EXIT.refused;
  }
  if (err instanceof ManifestError || err instanceof ConfigError) {
    print(err.message);
    return EXIT.badInput;
  }
  if (err instanceof ZodError) {
    print(`Not valid: ${err.message}`);
    return EXIT.badInput;
  }
  // Commander has already said what was wrong with the command line (help and --version end with 0).
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.badInput;
  throw err;
}

async function main(): Promise<void> {
  try {
    await buildProgram(loadConfig()).parseAsync(process.argv);
  } catch (err) {
    process.exitCode = explain(err);
  }
}

if (import.meta.main) await main();
