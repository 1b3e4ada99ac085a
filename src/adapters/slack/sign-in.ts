/**
 * Sign in with Slack (OpenID Connect): the browser is sent to Slack's
 * authorize URL; the code it brings back is traded with `openid.connect.token`
 * for an id token (whose nonce must be ours) and an access token, and
 * `openid.connect.userInfo` says which Slack user and workspace signed in.
 * The id token comes straight from Slack over TLS, so its signature need not
 * be checked again (OpenID Connect Core §3.1.3.7).
 */
import { WebClient } from '@slack/web-api';
import type { SignedInPerson, SlackSignIn } from '../../ports/sign-in.ts';

export type SlackSignInConfig = {
  clientId: string;
  clientSecret: string;
  /** https://slack.com/openid/connect/authorize, or a loopback fake's in tests. */
  authorizeUrl: string;
  /** Only for pointing the Web API client at a loopback fake. */
  apiUrl: string | undefined;
  /** When set, people of other workspaces are refused. */
  teamId: string | undefined;
};

export class SignInRefused extends Error {
  override readonly name = 'SignInRefused';
}

export class SlackOpenIdSignIn implements SlackSignIn {
  private readonly config: SlackSignInConfig;

  constructor(config: SlackSignInConfig) {
    this.config = config;
  }

  authorizeUrl(opts: { state: string; nonce: string; redirectUri: string }): string {
    const url = new URL(this.config.authorizeUrl);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('scope', 'openid profile email');
    url.searchParams.set('client_id', this.config.clientId);
    url.searchParams.set('redirect_uri', opts.redirectUri);
    url.searchParams.set('state', opts.state);
    url.searchParams.set('nonce', opts.nonce);
    return url.toString();
  }

  async exchange(opts: { code: string; redirectUri: string; nonce: string }): Promise<SignedInPerson> {
    const client = new WebClient(undefined, this.config.apiUrl ? { slackApiUrl: this.config.apiUrl } : {});
    const token = await client.openid.connect.token({
      client_id: this.config.clientId,
      client_secret: this.config.clientSecret,
      code: opts.code,
      redirect_uri: opts.redirectUri,
      grant_type: 'authorization_code',
    });
    if (!token.access_token || !token.id_token) throw new SignInRefused('Slack did not return the tokens of a signed-in person');
    if (nonceOf(token.id_token) !== opts.nonce) throw new SignInRefused('The sign-in answer was not for this sign-in; start again');
    const info = await client.openid.connect.userInfo({ token: token.access_token });
    const userId = info['https://slack.com/user_id'];
    const teamId = info['https://slack.com/team_id'];
    if (!userId || !teamId) throw new SignInRefused('Slack did not say who signed in');
    if (this.config.teamId && teamId !== this.config.teamId) throw new SignInRefused('That Slack workspace is not the one this provisioner serves');
    return { userId, teamId, name: info.name ?? info.given_name ?? userId };
  }
}

/** The `nonce` claim of an id token (a JWT: header.payload.signature, base64url JSON). */
function nonceOf(idToken: string): string | undefined {
  const payload = idToken.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const nonce = claims !== null && typeof claims === 'object' ? Reflect.get(claims, 'nonce') : undefined;
    return typeof nonce === 'string' ? nonce : undefined;
  } catch {
    return undefined;
  }
}
