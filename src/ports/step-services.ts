/**
 * What step types may use from the outside world. Each step file reaches
 * its integration only through here, so tests plug in real clients pointed
 * at loopback servers and production plugs in the real endpoints.
 */

/** A stand-in external API for sandbox steps: creating is idempotent by key, like Stripe's. */
export interface SandboxLedger {
  /** Creates the resource unless one exists under this key; says whether this call created it. */
  create(key: string, resource: { jobId: string; stepId: string; name: string }): Promise<{ created: boolean }>;
  exists(key: string): Promise<boolean>;
  /** Removes the resource; removing one already gone is fine. */
  remove(key: string): Promise<{ removed: boolean }>;
  /** Counts calls under a key across processes (drives failure injection); returns the new count. */
  touch(counterKey: string): Promise<number>;
}

export interface StepServices {
  sandbox: SandboxLedger;
  /** Signs outbound webhooks; never logged. */
  webhookSigningSecret: string;
  fetch: typeof fetch;
}
