/**
 * A FerretDB of the test's own (the local MongoDB-wire server, on its SQLite
 * handler: no PostgreSQL to start), on a free port and in its own run folder
 * under .local/services (so a crashed test's server is reaped by the next
 * run). It can be restarted on the same port and data, the way an operator
 * restarts it (SIGTERM: FerretDB stops accepting, then closes its clients'
 * connections three seconds later) or the way it crashes (SIGKILL: every
 * connection drops at once).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { stateDir } from '../../scripts/services/common.ts';
import { ensureFerretBinary } from '../../scripts/services/mongo.ts';
import { terminate } from '../../scripts/services/process.ts';
import { mongoPing } from '../../scripts/services/probes.ts';
import { recordPids, RUN_PREFIX, stopRun, type Run } from '../../scripts/services/runs.ts';
import { freePort, spawnAndWait } from '../../scripts/services/spawn.ts';

export type StoreRestart = 'graceful' | 'crash';

export class OwnStore {
  readonly url: string;
  private readonly run: Run;
  private readonly spec: { bin: string; port: number; dir: string };
  private starts = 0;

  private constructor(run: Run, spec: { bin: string; port: number; dir: string }) {
    this.run = run;
    this.spec = spec;
    this.url = `mongodb://127.0.0.1:${spec.port}/`;
  }

  static async start(): Promise<OwnStore> {
    const dir = join(stateDir, `${RUN_PREFIX}${process.pid}-own-store-${randomBytes(3).toString('hex')}`);
    mkdirSync(dir, { recursive: true });
    const store = new OwnStore(
      { dir, persistent: false, started: [] },
      { bin: await ensureFerretBinary(), port: await freePort(), dir: join(dir, 'data') },
    );
    mkdirSync(store.spec.dir, { recursive: true });
    await store.up();
    return store;
  }

  /** Stops the server (gracefully or as a crash), then starts it again on the same port and data. */
  async restart(how: StoreRestart): Promise<void> {
    const [server] = this.run.started.splice(0);
    if (server) await terminate(server.pid, server.child, 10_000, how === 'crash' ? 'SIGKILL' : 'SIGTERM');
    recordPids(this.run);
    await this.up();
  }

  async stop(): Promise<void> {
    await stopRun(this.run, true);
  }

  private async up(): Promise<void> {
    this.starts += 1;
    const { bin, port, dir } = this.spec;
    await spawnAndWait(this.run, {
      name: 'mongodb',
      impl: 'ferretdb',
      cmd: bin,
      args: ['-listen', `127.0.0.1:${port}`, '-handler', 'sqlite', '-dir', dir],
      logFile: join(this.run.dir, `ferretdb-${this.starts}.log`),
      dataDirs: [],
      timeoutMs: 30_000,
      ready: () => mongoPing(this.url, 2000).then(() => true),
    });
  }
}
