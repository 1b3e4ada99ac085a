/** A pino destination that keeps what was written, to read log lines back as JSON. */
import { Writable } from 'node:stream';

export type LogLine = Record<string, unknown>;

export function captureLog(): { stream: Writable; lines(): LogLine[]; text(): string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  const text = () => chunks.join('');
  return {
    stream,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter(Boolean)
        .map((l): LogLine => JSON.parse(l)),
  };
}
