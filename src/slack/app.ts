/**
 * The Slack app: Socket Mode (an app token, no public URL: for trying it) or
 * HTTP mode (signing secret, Bolt verifies every request's signature and
 * age: for production), chosen by configuration. Listeners stay thin; Block
 * Kit comes from ./blocks, decisions from the application services.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { App, HTTPReceiver, LogLevel } from '@slack/bolt';
import type { FetchFunction, Logger } from '@slack/web-api';
import type { SlackConfig } from '../config.ts';
import { registerButtons } from './listeners/buttons.ts';
import { registerCommand } from './listeners/command.ts';
import type { ListenerDeps } from './listeners/deps.ts';
import { registerDialogs } from './listeners/dialogs.ts';
import { registerDriftActions } from './listeners/drift.ts';
import { registerIntake } from './listeners/intake.ts';
import { registerLifecycle } from './listeners/lifecycle.ts';
import { registerPendingIntake } from './listeners/pending-intake.ts';

/**
 * In HTTP mode Slack's requests are handed to `handle` by the one HTTP server
 * (POST /slack/events), where Bolt's receiver checks each signature and age on
 * the raw body; in Socket Mode `start` opens the WebSocket.
 */
export type SlackApp = {
  app: App;
  /** HTTP mode: Bolt's receiver, and the signing secret it checks requests with. */
  http: { handle: (req: IncomingMessage, res: ServerResponse) => void; signingSecret: string } | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
};

/** How the app reaches Slack and where the SDK's own log lines go (the composition root wires metrics and the logger in). */
export type SlackWiring = { fetch?: FetchFunction; logger?: Logger };

export function createSlackApp(config: SlackConfig, deps: ListenerDeps, wiring: SlackWiring = {}): SlackApp {
  const common = {
    token: config.botToken,
    logLevel: LogLevel.WARN,
    ...(wiring.logger ? { logger: wiring.logger } : {}),
    clientOptions: { ...(config.apiUrl ? { slackApiUrl: config.apiUrl } : {}), ...(wiring.fetch ? { fetch: wiring.fetch } : {}) },
  };
  const receiver =
    config.mode === 'http'
      ? new HTTPReceiver({
          signingSecret: config.signingSecret ?? '',
          endpoints: '/slack/events',
          ...(wiring.logger ? { logger: wiring.logger } : {}),
        })
      : undefined;
  const app = receiver ? new App({ ...common, receiver }) : new App({ ...common, socketMode: true, appToken: config.appToken ?? '' });
  app.error(async (err) => deps.onError(err));
  registerCommand(app, deps);
  registerIntake(app, deps);
  registerButtons(app, deps);
  registerDialogs(app, deps);
  registerDriftActions(app, deps);
  registerLifecycle(app, deps);
  registerPendingIntake(app, deps);
  return {
    app,
    http: receiver ? { handle: receiver.requestListener, signingSecret: config.signingSecret ?? '' } : undefined,
    async start() {
      if (config.mode === 'socket') await app.start();
    },
    async stop() {
      if (config.mode === 'socket') await app.stop();
    },
  };
}
