/** How many requests each API caller may make: a budget per caller and window, shared by every process. */
export type Admission = {
  admitted: boolean;
  /** The budget of a window. */
  limit: number;
  /** Requests left in this window after this one (0 when refused). */
  remaining: number;
  /** Seconds until the window ends and the budget is whole again (at least 1). */
  resetSeconds: number;
  /** The window's length in seconds, for the RateLimit-Policy header. */
  windowSeconds: number;
};

export interface CallerRateLimit {
  /** Counts one request of the caller; refused (with when to try again) once its budget for the window is spent. */
  admit(caller: string): Promise<Admission>;
}
