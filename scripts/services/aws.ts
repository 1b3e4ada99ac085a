// The AWS emulator (moto) for the Route 53 / Secrets Manager steps: reuse
// AWS_ENDPOINT_URL when something answers there, else start moto_server from
// PATH, or from a private venv in the user's cache (pip-installed on first
// use, pinned to one moto version).

import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, errorMessage, log, stateDir } from './common.ts';
import { httpAnswers, httpOk, redactUrl } from './probes.ts';
import { findOnPath, runLogged, tail } from './process.ts';
import type { Run } from './runs.ts';
import { spawnAndWait, withPortRetry } from './spawn.ts';
import type { ServiceInfo } from './types.ts';

const MOTO_SPEC = 'moto[server]==5.2.1';

async function findOrInstallMoto(): Promise<string> {
  const onPath = findOnPath('moto_server');
  if (onPath) return onPath;
  const venv = join(cacheDir(), 'moto-venv');
  const venvBin = join(venv, 'bin', 'moto_server');
  if (existsSync(venvBin)) return venvBin;
  const advice = `Install it with \`pip install "${MOTO_SPEC}"\` or set AWS_ENDPOINT_URL to a running emulator.`;
  const python = findOnPath('python3') ?? findOnPath('python');
  if (!python) throw new Error(`moto_server is not on PATH and there is no python3. ${advice}`);
  mkdirSync(stateDir, { recursive: true });
  const logFile = join(stateDir, 'moto-install.log');
  writeFileSync(logFile, '');
  // A private venv: works on Debian's "externally managed" system Python too.
  log(`moto_server not found: installing "${MOTO_SPEC}" into ${venv} (output in ${logFile})…`);
  let code = await runLogged(python, ['-m', 'venv', venv], logFile);
  if (code === 0) code = await runLogged(join(venv, 'bin', 'pip'), ['install', '--disable-pip-version-check', MOTO_SPEC], logFile);
  if (code !== 0 || !existsSync(venvBin)) {
    rmSync(venv, { recursive: true, force: true });
    throw new Error(`could not install moto (exit ${code}). ${advice}\n  log (${logFile}):\n${tail(logFile)}`);
  }
  return venvBin;
}

export async function ensureAws(run: Run): Promise<ServiceInfo> {
  const existing = process.env.AWS_ENDPOINT_URL;
  if (existing) {
    try {
      await httpAnswers(existing);
    } catch (err) {
      throw new Error(
        `AWS_ENDPOINT_URL is set (${redactUrl(existing)}) but nothing answers there: ${errorMessage(err)}. Start it, or unset AWS_ENDPOINT_URL to let this script start moto_server.`,
      );
    }
    return { name: 'aws', impl: 'external', envVar: 'AWS_ENDPOINT_URL', url: existing, source: 'reused' };
  }
  const bin = await findOrInstallMoto();
  return withPortRetry(async (port) => {
    const url = `http://127.0.0.1:${port}`;
    await spawnAndWait(run, {
      name: 'aws',
      impl: 'moto_server',
      cmd: bin,
      args: ['-H', '127.0.0.1', '-p', String(port)],
      // moto issues a DNS-validated ACM certificate this many seconds after the request (default 60): a few
      // seconds keeps the demo and tests quick while the certificate step really polls while it waits.
      env: { ...process.env, MOTO_ACM_VALIDATION_WAIT: process.env.MOTO_ACM_VALIDATION_WAIT ?? '3' },
      logFile: join(run.dir, 'moto.log'),
      dataDirs: [],
      timeoutMs: 30_000,
      ready: () => httpOk(`${url}/moto-api/`),
    });
    return { name: 'aws', impl: 'moto_server', envVar: 'AWS_ENDPOINT_URL', url, source: 'started' };
  });
}
