/**
 * A worker process for the crash test: runs step workers and the stream
 * consumers against the queue prefix and database given in the environment
 * (QUEUE_PREFIX, MONGODB_DB, REDIS_URL, MONGODB_URI, MANIFESTS_DIR), with a
 * short lock so a killed worker's step is picked up again quickly.
 *   node test/support/worker-process.ts
 * Prints "ready" once it is consuming; stops cleanly on SIGTERM.
 */
import { compose } from '../../src/compose.ts';
import { loadConfig } from '../../src/config.ts';

const app = await compose(loadConfig(process.env), {
  runWorkers: true,
  lockDurationMs: 1000,
  stalledIntervalMs: 500,
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
