/**
 * A worker process for the crash tests and the chaos run: runs step workers
 * and the stream consumers against the queue prefix and database given in
 * the environment (QUEUE_PREFIX, MONGODB_DB, REDIS_URL, MONGODB_URI,
 * MANIFESTS_DIR), with a short lock so a killed worker's step is picked up
 * again quickly.
 *   node test/support/worker-process.ts [--lock-ms 1000]
 * Prints "ready" once it is consuming; stops cleanly on SIGTERM.
 */
import { parseArgs } from 'node:util';
import { compose } from '../../src/compose.ts';
import { loadConfig } from '../../src/config.ts';

// A busy machine (the chaos run) needs a longer lock than a test, or a step stalls while its worker is merely slow.
const { values } = parseArgs({ options: { 'lock-ms': { type: 'string', default: '1000' } } });
const lockDurationMs = Number(values['lock-ms']);

const app = await compose(loadConfig(process.env), {
  runWorkers: true,
  lockDurationMs,
  stalledIntervalMs: Math.max(500, Math.round(lockDurationMs / 2)),
  onError: (err) => console.error(`[worker ${process.pid}]`, err),
});
process.stdout.write('ready\n');

process.once('SIGTERM', () => {
  app.close().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
});
