/**
 * The local profile's stand-ins for the SaaS APIs that have no official
 * emulator (Stripe, Okta, an SMTP server, webhook receivers), started
 * together. AWS is emulated by moto, started by scripts/services.ts.
 * Each speaks the real protocol, so the bot runs its real SDK clients.
 */
import type { Config } from '../config.ts';
import { loadManifests } from '../manifests/load.ts';
import { stepTypes } from '../steps/registry.ts';
import type { Latency } from './latency.ts';
import { startOktaFake, type OktaFake } from './okta-fake.ts';
import { startSmtpSink, type SmtpSink } from './smtp-sink.ts';
import { pricesForPlans, startStripeFake, type StripeFake } from './stripe-fake.ts';
import { startWebhookSink, type WebhookSink } from './webhook-sink.ts';

export type LocalEmulators = {
  stripe: StripeFake;
  okta: OktaFake;
  smtp: SmtpSink;
  webhooks: WebhookSink;
  /** The configuration that points the bot at these emulators (see src/config.ts). */
  env: Record<string, string>;
  close(): Promise<void>;
};

export type EmulatorPorts = { stripe: number; okta: number; smtp: number; webhooks: number };

/**
 * Starts the emulators for this configuration: Stripe sells the prices of its
 * plans. Port 0 everywhere (the default) lets each test run its own set side by side.
 */
export async function startLocalEmulators(
  config: Pick<Config, 'manifestsDir' | 'seedDir' | 'tenant'>,
  ports: EmulatorPorts = { stripe: 0, okta: 0, smtp: 0, webhooks: 0 },
  /** A random delay on every request, as real vendors have (the chaos run uses it so kills land inside steps). */
  latency?: Latency,
): Promise<LocalEmulators> {
  const { plans } = loadManifests({
    manifestsDir: config.manifestsDir,
    seedDir: config.seedDir,
    stepTypes,
    sampleTenantSettings: config.tenant,
  }).plans;
  const slow = latency ? { latency } : {};
  const stripe = await startStripeFake({ port: ports.stripe, prices: pricesForPlans(plans), ...slow });
  const okta = await startOktaFake({ port: ports.okta, ...slow });
  const smtp = await startSmtpSink({ port: ports.smtp, ...slow });
  const webhooks = await startWebhookSink({ port: ports.webhooks, ...slow });
  return {
    stripe,
    okta,
    smtp,
    webhooks,
    env: {
      STRIPE_API_URL: stripe.url,
      STRIPE_SECRET_KEY: stripe.apiKey,
      OKTA_ORG_URL: okta.url,
      OKTA_API_TOKEN: okta.token,
      SMTP_URL: smtp.url,
      CS_PLATFORM_WEBHOOK_URL: `${webhooks.url}/cs-platform`,
      SLACK_NOTICE_WEBHOOK_URL: `${webhooks.url}/slack-notice`,
    },
    async close() {
      await Promise.all([stripe.close(), okta.close(), smtp.close(), webhooks.close()]);
    },
  };
}
