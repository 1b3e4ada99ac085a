/**
 * What the fuzzer found, by target. Two kinds of failure, as the summary line
 * counts them: a crash (an exception nobody caught, an unhandled rejection, a
 * 5xx, a stack trace in text a person reads, or an exit code the CLI does not
 * document) and an unnamed rejection (input refused without naming the field
 * at fault). Two examples of each kind are kept, with the case number that
 * reproduces them under the printed seed.
 */

export type Failure = { target: string; kind: 'crash' | 'unnamed'; index: number; what: string; input: string; fullInput: string };

/** Examples kept of each kind of failure (the same failure a thousand times says nothing more). */
const EXAMPLES_PER_KIND = 2;
const KIND_LENGTH = 80;
const INPUT_SHOWN = 400;

export class Findings {
  readonly failures: Failure[] = [];
  private readonly cases = new Map<string, number>();
  private readonly counts = new Map<string, { crash: number; unnamed: number }>();
  /** How often each kind of failure happened, by its description up to the first colon. */
  private readonly kinds = new Map<string, number>();

  /** One more case tried on `target`; returns its index (for reproducing it). */
  tried(target: string): number {
    const n = this.cases.get(target) ?? 0;
    this.cases.set(target, n + 1);
    return n;
  }

  crash(target: string, index: number, what: string, input: unknown): void {
    this.add({ target, kind: 'crash', index, what, input: shown(input), fullInput: shown(input, Number.POSITIVE_INFINITY) });
  }

  unnamed(target: string, index: number, what: string, input: unknown): void {
    this.add({ target, kind: 'unnamed', index, what, input: shown(input), fullInput: shown(input, Number.POSITIVE_INFINITY) });
  }

  private add(failure: Failure): void {
    // Failures alike but for numbers and quoted values are one kind.
    const what = failure.what
      .replace(/"[^"]*"/g, '"…"')
      .replace(/\d+/g, 'N')
      .slice(0, KIND_LENGTH);
    const kind = `${failure.kind} in ${failure.target}: ${what}`;
    const seen = (this.kinds.get(kind) ?? 0) + 1;
    this.kinds.set(kind, seen);
    const count = this.counts.get(failure.target) ?? { crash: 0, unnamed: 0 };
    count[failure.kind] += 1;
    this.counts.set(failure.target, count);
    if (seen <= EXAMPLES_PER_KIND) this.failures.push(failure);
  }

  /** The kept examples with their whole input, as JSON lines, for whoever reproduces one. */
  examples(): string {
    return this.failures.map((f) => JSON.stringify({ target: f.target, kind: f.kind, index: f.index, what: f.what, input: f.fullInput })).join('\n');
  }

  total(kind: 'crash' | 'unnamed'): number {
    return [...this.counts.values()].reduce((n, c) => n + c[kind], 0);
  }

  caseCount(): number {
    return [...this.cases.values()].reduce((n, c) => n + c, 0);
  }

  /** One line per target, then the kept examples. */
  report(): string[] {
    const lines = [...this.cases].map(([target, n]) => {
      const c = this.counts.get(target) ?? { crash: 0, unnamed: 0 };
      return `${target}: ${n} cases, ${c.crash} crashes, ${c.unnamed} unnamed`;
    });
    for (const [kind, n] of this.kinds) lines.push(`  ${n}× ${kind}`);
    for (const f of this.failures) lines.push(`${f.kind} in ${f.target} (case ${f.index}): ${f.what}\n    input: ${f.input}`);
    return lines;
  }
}

function shown(input: unknown, max = INPUT_SHOWN): string {
  let text: string;
  try {
    text = typeof input === 'string' ? JSON.stringify(input) : (JSON.stringify(input) ?? String(input));
  } catch {
    text = String(input);
  }
  return text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text;
}

/** A JavaScript stack trace, or an internal file position, in text a person reads. */
export function hasStackTrace(text: string): boolean {
  return /\n\s*at .+(:\d+:\d+|\(native\)|<anonymous>)|node:internal\/|file:\/\/\/|\.ts:\d+:\d+|\.js:\d+:\d+/.test(text);
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
