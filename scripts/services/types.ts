// The public shapes of the local services library: what ensureServices()
// accepts and what it hands back (scripts/with-services.ts reads them).

export interface ServiceInfo {
  /** 'redis' | 'mongodb' | 'aws' | 'emulators' */
  name: string;
  /** What actually runs it: redis-server, mongod, ferretdb+postgresql, ferretdb+sqlite, moto_server, or 'external'. */
  impl: string;
  envVar: string;
  url: string;
  source: 'started' | 'reused';
  /** More variables a service sets (the emulators point the bot at four endpoints). */
  extraEnv?: Record<string, string>;
}

export interface Services {
  env: Record<string, string>;
  stop: () => Promise<void>;
  services: ServiceInfo[];
}

export interface EnsureOptions {
  wantAws?: boolean;
  /** The Stripe/Okta/SMTP/webhook emulators of the local profile (src/emulators/serve.ts). */
  wantEmulators?: boolean;
  /** Internal (CLI `start`): detach the children so they outlive this process. */
  persistent?: boolean;
}
