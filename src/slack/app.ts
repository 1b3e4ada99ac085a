/**
 * The Slack app: Socket Mode (an app token, no public URL: for trying it) or
 * HTTP mode (signing secret, Bolt verifies every request's signature and
 * age: for production), chosen by configuration. Listeners stay thin; Block
 * Kit comes from ./blocks, decisions from the application services.
 */
import { App, LogLevel } from '@slack/bolt';
import type { FetchFunction, Logger } from '@slack/web-api';
import type { SlackConfig } from '../config.ts';
import { registerButtons } from './listeners/buttons.ts';
import { registerCommand } from './listeners/command.ts';
import type { ListenerDeps } from './listeners/deps.ts';
import { registerDialogs } from './listeners/dialogs.ts';
import { registerIntake } from './listeners/intake.ts';

export type SlackApp = { app: App; start(): Promise<{ port: number | undefined }>; stop(): Promise<void> };

/** How the app reaches Slack and where the SDK's own log lines go (the composition root wires metrics and the logger in). */
export type SlackWiring = { fetch?: FetchFunction; logger?: Logger };

export function createSlackApp(config: SlackConfig, deps: ListenerDeps, wiring: SlackWiring = {}): SlackApp {
  const common = {
    token: config.botToken,
    logLevel: LogLevel.WARN,
    ...(wiring.logger ? { logger: wiring.logger } : {}),
    clientOptions: { ...(config.apiUrl ? { slackApiUrl: config.apiUrl } : {}), ...(wiring.fetch ? { fetch: wiring.fetch } : {}) },
  };
  const app =
    config.mode === 'socket'
      ? new App({ ...common, socketMode: true, appToken: config.appToken ?? '' })
      : new App({ ...common, signingSecret: config.signingSecret ?? '' });
  app.error(async (err) => deps.onError(err));
  registerCommand(app, deps);
  registerIntake(app, deps);
  registerButtons(app, deps);
  registerDialogs(app, deps);
  return {
    app,
    async start() {
      if (config.mode === 'socket') {
        await app.start();
        return { port: undefined };
      }
      const server = await app.start({ port: config.port, host: '0.0.0.0' });
      const address = server.address();
      return { port: address !== null && typeof address === 'object' ? address.port : undefined };
    },
    stop: () => app.stop().then(() => undefined),
  };
}
