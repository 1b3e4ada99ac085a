/**
 * A local SMTP server that keeps every message it accepts, for tests and the
 * local demo profile. It speaks real SMTP (smtp-server, from the nodemailer
 * project), so the step sends through nodemailer unchanged. Plain text on
 * loopback only: no TLS, AUTH accepted whatever the credentials.
 */
import { text } from 'node:stream/consumers';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { pause, type Latency } from './latency.ts';
import { parseMail } from './smtp-sink/mime.ts';

export type SinkMessage = {
  /** Envelope sender (MAIL FROM). */
  from: string;
  /** Envelope recipients (RCPT TO). */
  to: string[];
  subject: string;
  text: string;
  html?: string;
  messageId?: string;
  /** Every header by lower-case name, decoded. */
  headers: Record<string, string>;
  raw: string;
};

/** Where an injected failure answers: at RCPT TO (the address) or after DATA (the message). */
export type FailureStage = 'rcpt' | 'data';

export type SmtpSink = {
  url: string;
  port: number;
  messages(): SinkMessage[];
  /** The next `count` RCPT TO commands (or DATA transfers) are refused with this reply code. */
  failNext(count: number, code: number, stage?: FailureStage): void;
  close(): Promise<void>;
};

/** Reply texts real servers send, so error messages in tests read like production ones. */
const REPLY_TEXT: Record<number, string> = {
  421: 'Service not available, closing transmission channel',
  450: 'Requested mail action not taken: mailbox unavailable',
  451: 'Requested action aborted: local error in processing',
  452: 'Requested action not taken: insufficient system storage',
  550: 'Requested action not taken: mailbox unavailable',
  552: 'Requested mail action aborted: exceeded storage allocation',
  553: 'Requested action not taken: mailbox name not allowed',
  554: 'Transaction failed',
};

class SmtpReply extends Error {
  readonly responseCode: number;
  constructor(code: number) {
    super(REPLY_TEXT[code] ?? 'Injected failure');
    this.responseCode = code;
  }
}

type PendingFailure = { remaining: number; code: number };

function toMessage(raw: string, session: SMTPServerSession): SinkMessage {
  const mail = parseMail(raw);
  const { mailFrom, rcptTo } = session.envelope;
  const message: SinkMessage = {
    from: mailFrom === false ? '' : mailFrom.address,
    to: rcptTo.map((r) => r.address),
    subject: mail.headers['subject'] ?? '',
    text: mail.text,
    headers: mail.headers,
    raw,
  };
  if (mail.html !== undefined) message.html = mail.html;
  const messageId = mail.headers['message-id'];
  if (messageId !== undefined) message.messageId = messageId;
  return message;
}

/** `latency`: each message waits this long at RCPT TO (before it is taken) and again after DATA (before it is acknowledged). */
export async function startSmtpSink(opts: { port?: number; latency?: Latency } = {}): Promise<SmtpSink> {
  const received: SinkMessage[] = [];
  const failures: Record<FailureStage, PendingFailure> = { rcpt: { remaining: 0, code: 0 }, data: { remaining: 0, code: 0 } };

  /** Consumes one injected failure for this stage, if any is pending. */
  function takeFailure(stage: FailureStage): SmtpReply | null {
    const pending = failures[stage];
    if (pending.remaining <= 0) return null;
    pending.remaining -= 1;
    return new SmtpReply(pending.code);
  }

  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    allowInsecureAuth: true,
    disableReverseLookup: true,
    logger: false,
    // A local stand-in trusts whoever connects on loopback.
    onAuth(auth, _session, callback) {
      callback(null, { user: auth.username ?? 'local' });
    },
    onRcptTo(_address, _session, callback) {
      void pause(opts.latency).then(() => callback(takeFailure('rcpt')));
    },
    onData(stream, session, callback) {
      // The whole message must be read before answering, or the client stalls.
      text(stream).then(
        async (raw) => {
          const failure = takeFailure('data');
          if (failure === null) received.push(toMessage(raw, session));
          await pause(opts.latency);
          callback(failure);
        },
        (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
      );
    },
  });

  const port = await new Promise<number>((resolve, reject) => {
    server.on('error', reject);
    const listener = server.listen(opts.port ?? 0, '127.0.0.1', () => {
      const address = listener.address();
      if (address === null || typeof address === 'string') reject(new Error('SMTP sink has no TCP address'));
      else resolve(address.port);
    });
  });

  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages: () => [...received],
    failNext(count, code, stage = 'rcpt') {
      failures[stage] = { remaining: count, code };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
