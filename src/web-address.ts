import type { Config } from './config.ts';

/** PUBLIC_URL, or the local address of HTTP_PORT (before the server listens, or in a process that does not serve). */
export function configuredBaseUrl(config: Config): string {
  return config.web.publicUrl ?? `http://127.0.0.1:${config.observability.http.port}`;
}
