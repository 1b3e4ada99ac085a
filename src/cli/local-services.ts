/**
 * The local profile's servers, for the CLI commands that need them. Without
 * REDIS_URL / MONGODB_URI the provisioner starts Redis, a MongoDB-wire server,
 * moto and the emulators once, detached, and later commands reuse them, so a
 * `provision` in one terminal and an `approve` in another see the same jobs
 * (`npm run services stop` stops them). Only commands that compose the app ask:
 * help, --version, usage errors and the seed dry run start nothing.
 */
import { type Config, loadConfigWith } from '../config.ts';

/** The configuration pointing at the servers, and the variables that name them (for code that builds its own). */
export type LocalServers = { config: Config; env: Record<string, string> };

export async function withLocalServers(config: Config): Promise<LocalServers> {
  if (!config.startsLocalServers) return { config, env: {} };
  // The launchers' library, loaded only when servers are wanted; the app itself never imports it.
  const { startPersistentServices } = await import('../../scripts/services.ts');
  // Always the same set: whichever command starts them, the next one reuses them.
  const env = await startPersistentServices({ wantAws: true, wantEmulators: true });
  return { config: loadConfigWith(env), env };
}
