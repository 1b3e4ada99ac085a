/**
 * `npm run chaos`: does the product hold up when things break? N tenants are
 * provisioned on the real pipeline (manifests/pipeline.yaml) against the
 * emulators and moto, all answering with injected latency, by several worker
 * processes that are SIGKILLed (many while a step is under way) and replaced;
 * Redis is restarted once (gracefully, append-only file on) and the
 * MongoDB-wire server once. An approver approves what waits for approval.
 * Then: every job must have settled (live, or failed with a stated reason),
 * every live tenant must have exactly one of each resource in every system
 * and no tenant more than one, every event in the Redis stream must be in the
 * MongoDB audit trail, and every stored job view must equal the live state.
 *
 *   npm run chaos -- [--tenants 200] [--kills 40] [--workers 3] [--rate 2] [--latency 20-150]
 *                    [--seed N] [--settle-timeout 300] [--lock-ms 5000]
 *
 * Progress goes to stderr; stdout gets the findings and, last, one line:
 *   chaos: jobs=… live=… failed=… stuck=… kills=… redis_restarts=… store_restarts=… duplicates=… lost_events=… stale_views=…
 * Exit code 1 when anything is stuck, duplicated, lost or stale (or a live tenant misses a resource).
 */
import { parseArgs } from 'node:util';
import { parseLatency } from '../src/emulators/latency.ts';
import { runChaos, type ChaosOptions } from './chaos/run.ts';

function options(): ChaosOptions {
  const { values } = parseArgs({
    options: {
      tenants: { type: 'string', default: '200' },
      kills: { type: 'string' },
      workers: { type: 'string', default: '3' },
      rate: { type: 'string', default: '2' },
      latency: { type: 'string', default: '20-150' },
      seed: { type: 'string' },
      'settle-timeout': { type: 'string', default: '300' },
      'lock-ms': { type: 'string', default: '5000' },
    },
  });
  const number = (name: string, text: string | undefined, min: number): number => {
    const value = Number(text);
    if (!Number.isFinite(value) || value < min) throw new Error(`--${name} must be a number of at least ${min} (got ${JSON.stringify(text)})`);
    return value;
  };
  const tenants = number('tenants', values.tenants, 1);
  const latency = parseLatency(values.latency);
  if (!latency) throw new Error(`--latency must look like 20-150 (milliseconds), got ${JSON.stringify(values.latency)}`);
  return {
    tenants,
    kills: number('kills', values.kills ?? String(Math.max(4, Math.round(tenants / 5))), 0),
    workers: number('workers', values.workers, 2),
    perSecond: number('rate', values.rate, 0.1),
    latency,
    seed: values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : number('seed', values.seed, 0),
    settleTimeoutMs: number('settle-timeout', values['settle-timeout'], 10) * 1000,
    lockMs: number('lock-ms', values['lock-ms'], 500),
  };
}

try {
  const summary = await runChaos(options());
  for (const line of summary.findings) console.log(line);
  console.log(summary.line);
  process.exit(summary.ok ? 0 : 1);
} catch (err) {
  process.stderr.write(`[chaos] the run could not be carried out: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(2);
}
