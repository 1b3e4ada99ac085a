/**
 * Is this process able to do its work? Each dependency is asked once, all at
 * the same time, and must answer within a short time: a health check that
 * hangs on a dead server is worse than none.
 */
import { redactText } from '../domain/redact.ts';
import type { ComponentHealth, HealthReport, Probe } from '../ports/health.ts';
import { silentLog, type Log } from '../ports/logger.ts';

/** Well under a load balancer's usual check timeout. */
export const PROBE_TIMEOUT_MS = 1_000;

export class HealthService {
  private readonly probes: Readonly<Record<string, Probe>>;
  private readonly timeoutMs: number;
  private readonly log: Log;
  /** What the last check found, so the log says when something goes down or comes back, not on every check. */
  private readonly last = new Map<string, string | undefined>();

  constructor(probes: Readonly<Record<string, Probe>>, opts: { timeoutMs?: number; log?: Log } = {}) {
    this.probes = probes;
    this.timeoutMs = opts.timeoutMs ?? PROBE_TIMEOUT_MS;
    this.log = opts.log ?? silentLog;
  }

  async check(): Promise<HealthReport> {
    const results = await Promise.all(Object.entries(this.probes).map(async ([name, probe]) => [name, await this.ask(probe)] as const));
    const components: Record<string, ComponentHealth> = {};
    const problems: Record<string, string> = {};
    for (const [name, problem] of results) {
      components[name] = problem === undefined ? 'up' : 'down';
      if (problem !== undefined) problems[name] = problem;
      this.noteChange(name, problem);
    }
    return { ok: Object.keys(problems).length === 0, components, problems };
  }

  private noteChange(component: string, problem: string | undefined): void {
    const known = this.last.has(component);
    const before = this.last.get(component);
    this.last.set(component, problem);
    if (problem !== undefined && (before === undefined || !known)) this.log.warn({ component, problem }, `health check: ${component} is down`);
    else if (problem === undefined && known && before !== undefined) this.log.info({ component }, `health check: ${component} is up again`);
  }

  /** Undefined when the dependency answered in time, else why not. */
  private async ask(probe: Probe): Promise<string | undefined> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => {
        controller.abort();
        resolve(`no answer within ${this.timeoutMs} ms`);
      }, this.timeoutMs);
    });
    const answer = probe(controller.signal).then(
      () => undefined,
      (err: unknown) => redactText(err instanceof Error ? err.message : String(err)),
    );
    try {
      return await Promise.race([answer, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
