/** Whether the servers this process depends on answer. */

/** Resolves when the dependency answered; rejects (or never settles) when it did not. */
export type Probe = (signal: AbortSignal) => Promise<void>;

export type ComponentHealth = 'up' | 'down';

export type HealthReport = {
  ok: boolean;
  /** Each dependency by name (redis, store…). */
  components: Readonly<Record<string, ComponentHealth>>;
  /** Why each down component is down, short and without secrets. */
  problems: Readonly<Record<string, string>>;
};
