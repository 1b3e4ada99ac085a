/**
 * A redis-server of the test's own, with the same durable settings as the
 * local services (append-only file, fsync every second), on a free port and
 * in its own run folder under .local/services (so a crashed test's server is
 * reaped by the next run). It can be restarted on the same port and data.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { stateDir } from '../../scripts/services/common.ts';
import { terminate } from '../../scripts/services/process.ts';
import { findRedisServer, startRedisServer } from '../../scripts/services/redis.ts';
import { recordPids, RUN_PREFIX, stopRun, type Run } from '../../scripts/services/runs.ts';
import { freePort } from '../../scripts/services/spawn.ts';

export class OwnRedis {
  readonly url: string;
  private readonly run: Run;
  private readonly spec: { bin: string; port: number; dir: string };
  private starts = 0;

  private constructor(run: Run, spec: { bin: string; port: number; dir: string }) {
    this.run = run;
    this.spec = spec;
    this.url = `redis://127.0.0.1:${spec.port}`;
  }

  static async start(): Promise<OwnRedis> {
    const dir = join(stateDir, `${RUN_PREFIX}${process.pid}-own-redis-${randomBytes(3).toString('hex')}`);
    mkdirSync(dir, { recursive: true });
    const redis = new OwnRedis(
      { dir, persistent: false, started: [] },
      { bin: await findRedisServer(), port: await freePort(), dir: join(dir, 'data') },
    );
    await redis.up();
    return redis;
  }

  /** A graceful restart: SIGTERM (Redis shuts down, flushing its append-only file), a pause, then the same port and data. */
  async restart(downMs: number): Promise<void> {
    const [server] = this.run.started.splice(0);
    if (server) await terminate(server.pid, server.child, 10_000);
    recordPids(this.run);
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.up();
  }

  async stop(): Promise<void> {
    await stopRun(this.run, true);
  }

  private async up(): Promise<void> {
    this.starts += 1;
    await startRedisServer(this.run, { ...this.spec, logFile: join(this.run.dir, `redis-${this.starts}.log`) });
  }
}
