/** Signing people in to the web pages with their Slack identity (OpenID Connect). */

export type SignedInPerson = { userId: string; teamId: string; name: string };

export interface SlackSignIn {
  /** Where the browser goes to sign in; Slack sends it back to redirectUri with a code and our state. */
  authorizeUrl(opts: { state: string; nonce: string; redirectUri: string }): string;
  /** Trades the code for the person it belongs to; refuses an id token minted for another nonce. */
  exchange(opts: { code: string; redirectUri: string; nonce: string }): Promise<SignedInPerson>;
}
