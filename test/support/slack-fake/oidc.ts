/**
 * Sign in with Slack, as the loopback Slack fake serves it
 * (api.slack.com/authentication/sign-in-with-slack):
 * - `GET /openid/connect/authorize?response_type=code&scope=openid…&client_id&redirect_uri&state&nonce`
 *   redirects (302) back to redirect_uri with a one-time `code` and the same `state`, for
 *   the person the test said is signed in to Slack in this browser (`signInAs`).
 * - `openid.connect.token` trades code + client_id + client_secret (+ the same redirect_uri)
 *   for an `access_token` (xoxp-…) and an `id_token` (a JWT carrying the nonce).
 * - `openid.connect.userInfo`, with that access token as bearer, says who it is:
 *   `https://slack.com/user_id`, `https://slack.com/team_id`, name, email.
 * Codes are single-use and expire after 10 minutes, like Slack's.
 */
import { randomBytes } from 'node:crypto';

export type OidcClient = { clientId: string; clientSecret: string };
type Person = { userId: string; name: string; email: string };
type Grant = { person: Person; nonce: string; redirectUri: string; clientId: string; at: number };

const CODE_TTL_MS = 600_000;

function jwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  // The fake does not sign: the bot reads the id token it got straight from the token endpoint.
  return `${part({ alg: 'RS256', typ: 'JWT', kid: 'fake' })}.${part(claims)}.${randomBytes(32).toString('base64url')}`;
}

export class OidcFake {
  private readonly teamId: string;
  private client: OidcClient | undefined;
  private signedIn: Person | undefined;
  private readonly codes = new Map<string, Grant>();
  private readonly tokens = new Map<string, Person>();
  /** Every authorize request seen, for assertions. */
  readonly authorizations: URLSearchParams[] = [];

  constructor(teamId: string) {
    this.teamId = teamId;
  }

  configure(client: OidcClient): void {
    this.client = client;
  }

  /** Who is signed in to Slack in "the browser": the next authorize approves them. */
  signInAs(person: Person): void {
    this.signedIn = person;
  }

  /** The answer to GET /openid/connect/authorize: where to send the browser. */
  authorize(query: URLSearchParams): { status: number; location?: string; body?: string } {
    this.authorizations.push(query);
    const redirectUri = query.get('redirect_uri') ?? '';
    if (!this.client || query.get('client_id') !== this.client.clientId) return { status: 400, body: 'invalid_client_id' };
    if (query.get('response_type') !== 'code' || !(query.get('scope') ?? '').split(' ').includes('openid'))
      return { status: 400, body: 'invalid_scope' };
    if (!/^https?:\/\//.test(redirectUri)) return { status: 400, body: 'bad_redirect_uri' };
    const back = new URL(redirectUri);
    back.searchParams.set('state', query.get('state') ?? '');
    if (!this.signedIn) {
      back.searchParams.set('error', 'access_denied');
      return { status: 302, location: back.toString() };
    }
    const code = `fake-code-${randomBytes(12).toString('hex')}`;
    this.codes.set(code, { person: this.signedIn, nonce: query.get('nonce') ?? '', redirectUri, clientId: this.client.clientId, at: Date.now() });
    back.searchParams.set('code', code);
    return { status: 302, location: back.toString() };
  }

  /** openid.connect.* over the Web API; `bearer` is the Authorization header's token, if any. */
  call(method: string, args: Record<string, unknown>, bearer: string | undefined): Record<string, unknown> {
    if (method === 'openid.connect.token') return this.token(args);
    if (method === 'openid.connect.userInfo') return this.userInfo(bearer);
    return { ok: false, error: 'unknown_method' };
  }

  private token(args: Record<string, unknown>): Record<string, unknown> {
    if (!this.client || args['client_id'] !== this.client.clientId) return { ok: false, error: 'invalid_client_id' };
    if (args['client_secret'] !== this.client.clientSecret) return { ok: false, error: 'bad_client_secret' };
    const code = typeof args['code'] === 'string' ? args['code'] : '';
    const grant = this.codes.get(code);
    this.codes.delete(code);
    if (!grant || Date.now() - grant.at > CODE_TTL_MS) return { ok: false, error: 'invalid_code' };
    if (args['redirect_uri'] !== undefined && args['redirect_uri'] !== grant.redirectUri) return { ok: false, error: 'bad_redirect_uri' };
    const accessToken = `xoxp-fake-${randomBytes(12).toString('hex')}`;
    this.tokens.set(accessToken, grant.person);
    const now = Math.floor(Date.now() / 1000);
    const idToken = jwt({
      iss: 'https://slack.com',
      sub: grant.person.userId,
      aud: grant.clientId,
      exp: now + 3600,
      iat: now,
      nonce: grant.nonce,
      'https://slack.com/user_id': grant.person.userId,
      'https://slack.com/team_id': this.teamId,
      name: grant.person.name,
      email: grant.person.email,
    });
    return { ok: true, access_token: accessToken, token_type: 'Bearer', id_token: idToken };
  }

  private userInfo(bearer: string | undefined): Record<string, unknown> {
    const person = bearer === undefined ? undefined : this.tokens.get(bearer);
    if (!person) return { ok: false, error: 'invalid_auth' };
    return {
      ok: true,
      sub: person.userId,
      'https://slack.com/user_id': person.userId,
      'https://slack.com/team_id': this.teamId,
      email: person.email,
      email_verified: true,
      name: person.name,
      given_name: person.name.split(' ')[0],
    };
  }
}
