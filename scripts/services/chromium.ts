// Debian's Chromium for the browser tests (driven by playwright-core, never a
// downloaded browser): found on PATH, or installed with apt-get when missing
// and we are root.

import { aptInstall, cannotApt } from './apt.ts';
import { findOnPath, isExecutable, tail } from './process.ts';

const KNOWN = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

export async function ensureChromium(): Promise<string> {
  const found = findOnPath('chromium') ?? KNOWN.find(isExecutable);
  if (found) return found;
  const why = cannotApt();
  if (why)
    throw new Error(`Chromium is not installed and ${why}. Install Debian's chromium package (apt-get install chromium) or set CHROMIUM_PATH.`);
  const { code, logFile } = await aptInstall('chromium');
  const installed = findOnPath('chromium') ?? KNOWN.find(isExecutable);
  if (code !== 0 || !installed) throw new Error(`apt-get could not install chromium (exit ${code}).\n  log (${logFile}):\n${tail(logFile)}`);
  return installed;
}
