/** Short-lived tokens that work once (sign-in links): issued by one process, redeemable by any. */
export interface OneTimeTokens {
  issue(value: string, ttlMs: number): Promise<string>;
  /** The value the token was issued for, once; undefined when unknown, expired or already used. */
  redeem(token: string): Promise<string | undefined>;
}
