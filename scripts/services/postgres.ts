// PostgreSQL for FerretDB's postgresql handler: a private cluster per run
// (initdb in the run folder, trust auth, its unix socket in the run folder,
// a free TCP port on 127.0.0.1) holding the database FerretDB uses. Debian
// installs the server binaries outside PATH (/usr/lib/postgresql/<major>/bin),
// and PostgreSQL refuses to run as root, so as root it runs as the `postgres`
// OS user. Installed with apt-get when missing and we are root.

import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readdirSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { aptInstall, cannotApt, isRoot } from './apt.ts';
import { findOnPath, isExecutable, runLogged, tail } from './process.ts';
import type { Run } from './runs.ts';
import { spawnAndWait, withPortRetry } from './spawn.ts';

export const FERRETDB_DATABASE = 'ferretdb';

const PROGRAMS = ['initdb', 'postgres', 'pg_isready', 'createdb', 'psql'];

/** Makes FerretDB's filters use indexes: see the file's comment. */
const GIN_TWINS = join(import.meta.dirname, 'ferretdb-gin-twins.sql');

/** The server's program folder: where PATH's initdb really lives (it may be a lone symlink), then Debian's versioned folders, newest first. */
function findBinDir(): string | undefined {
  const onPath = findOnPath('initdb');
  const candidates = onPath ? [dirname(realpathSync(onPath))] : [];
  try {
    const majors = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
    candidates.push(...majors.map((m) => join('/usr/lib/postgresql', m, 'bin')));
  } catch {
    // not Debian's layout
  }
  return candidates.find((dir) => PROGRAMS.every((program) => isExecutable(join(dir, program))));
}

async function findOrInstall(): Promise<string> {
  const found = findBinDir();
  if (found) return found;
  const cannot = cannotApt();
  if (cannot) throw new Error(`PostgreSQL is not installed and ${cannot}`);
  const { code, logFile } = await aptInstall('postgresql');
  const installed = findBinDir();
  if (code !== 0 || !installed) throw new Error(`apt-get could not install postgresql (exit ${code})\n  log (${logFile}):\n${tail(logFile)}`);
  return installed;
}

/** The command prefix that runs a server program as an unprivileged user: nothing unless we are root. */
function unprivileged(): { prefix: string[]; owner?: { uid: number; gid: number } } {
  if (!isRoot()) return { prefix: [] };
  let owner: { uid: number; gid: number };
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    owner = { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error('there is no `postgres` OS user to run PostgreSQL as (it refuses to run as root)');
  }
  const setpriv = findOnPath('setpriv');
  if (setpriv) return { prefix: [setpriv, `--reuid=${owner.uid}`, `--regid=${owner.gid}`, '--clear-groups', '--'], owner };
  const runuser = findOnPath('runuser');
  if (runuser) return { prefix: [runuser, '-u', 'postgres', '--'], owner };
  throw new Error('neither setpriv nor runuser is available to run PostgreSQL as the postgres user');
}

/**
 * Starts a private PostgreSQL cluster for this run and returns the URL of FerretDB's database in it.
 * Durability settings are off (fsync, synchronous commit): the cluster is deleted when the run stops.
 */
export async function startPostgres(run: Run): Promise<string> {
  const binDir = await findOrInstall();
  const { prefix, owner } = unprivileged();
  const bin = (name: string) => join(binDir, name);
  return withPortRetry(async (port) => {
    // Run as the postgres user, the server must reach its folder: a checkout inside a folder only root may
    // enter (mktemp -d makes them so) would fail initdb with "Permission denied", so it then lives in the temp dir.
    const base = owner ? mkdtempSync(join(tmpdir(), `provisioner-postgres-${port}-`)) : join(run.dir, `postgres-${port}`);
    const data = join(base, 'data');
    const sockets = join(base, 'sock');
    mkdirSync(sockets, { recursive: true });
    if (owner) for (const dir of [base, sockets]) chownSync(dir, owner.uid, owner.gid);
    const setupLog = join(run.dir, 'postgres-setup.log');
    const asOwner = async (cmd: string, args: string[]) => {
      const [first, ...rest] = [...prefix, cmd, ...args];
      const code = await runLogged(first ?? cmd, rest, setupLog);
      if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${code})\n  log (${setupLog}):\n${tail(setupLog)}`);
    };
    await asOwner(bin('initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    // A unix socket path longer than the kernel's limit (~107 bytes) stops the server: go without one then.
    const socketDir = `${sockets}/.s.PGSQL.${port}`.length < 100 ? sockets : '';
    const settings = [
      'listen_addresses=127.0.0.1',
      'fsync=off',
      'synchronous_commit=off',
      'full_page_writes=off',
      'max_connections=300',
      // FerretDB sends the field name as a parameter (`_jsonb->$1 @> $2`): only a plan made for the actual values can use an index.
      'plan_cache_mode=force_custom_plan',
    ];
    const server = [bin('postgres'), '-D', data, '-p', String(port), '-k', socketDir, ...settings.flatMap((s) => ['-c', s])];
    const [cmd, ...args] = [...prefix, ...server];
    await spawnAndWait(run, {
      name: 'postgresql',
      impl: 'postgres',
      cmd: cmd ?? bin('postgres'),
      args,
      logFile: join(run.dir, 'postgres.log'),
      dataDirs: [base],
      timeoutMs: 30_000,
      ready: async () => (await runLogged(bin('pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(port)], setupLog)) === 0,
    });
    const created = await runLogged(bin('createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', FERRETDB_DATABASE], setupLog);
    if (created !== 0) throw new Error(`createdb ${FERRETDB_DATABASE} failed (exit ${created})\n  log (${setupLog}):\n${tail(setupLog)}`);
    const connect = ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-v', 'ON_ERROR_STOP=1', '-q', FERRETDB_DATABASE];
    const twins = await runLogged(bin('psql'), [...connect, '-f', GIN_TWINS], setupLog);
    if (twins !== 0) throw new Error(`installing FerretDB's index twins failed (exit ${twins})\n  log (${setupLog}):\n${tail(setupLog)}`);
    // FerretDB holds a pooled connection per update of a command until the command ends (and two while it
    // writes): its default pool of 50 lets a few concurrent multi-update commands wait on each other for good.
    return `postgres://postgres@127.0.0.1:${port}/${FERRETDB_DATABASE}?pool_max_conns=250`;
  });
}
