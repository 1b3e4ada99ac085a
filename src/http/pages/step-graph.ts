/**
 * The job's step graph as an SVG picture: steps in columns by dependency
 * depth, each box coloured by its state and labelled with it in words (colour
 * is never the only cue), arrows from each step to the steps that need it.
 */
import { levels } from '../../domain/graph.ts';
import type { StepView } from '../../domain/job-view.ts';
import type { StepState } from '../../domain/job.ts';
import { html, type Html } from './html.ts';

const BOX = { width: 176, height: 46 };
const GAP = { x: 56, y: 18 };
const PAD = 12;

/** One palette for the graph, the step table and the legend (CSS classes carry the colours). */
export const STATE_WORDS: Readonly<Record<StepState, string>> = {
  pending: 'waiting',
  ready: 'queued',
  running: 'running',
  waiting_approval: 'needs approval',
  waiting_input: 'needs input',
  succeeded: 'done',
  failed: 'failed',
  overridden: 'done by hand',
  compensating: 'undoing',
  compensated: 'undone',
  compensation_failed: 'undo failed',
};

type Placed = { step: StepView; x: number; y: number };

function place(steps: readonly StepView[]): { placed: Map<string, Placed>; width: number; height: number } {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const columns = levels(steps.map((s) => ({ id: s.id, needs: s.needs })));
  const placed = new Map<string, Placed>();
  const tallest = Math.max(1, ...columns.map((c) => c.length));
  columns.forEach((ids, column) => {
    ids.forEach((id, row) => {
      const step = byId.get(id);
      if (step) placed.set(id, { step, x: PAD + column * (BOX.width + GAP.x), y: PAD + row * (BOX.height + GAP.y) });
    });
  });
  const width = PAD * 2 + columns.length * BOX.width + Math.max(0, columns.length - 1) * GAP.x;
  const height = PAD * 2 + tallest * BOX.height + (tallest - 1) * GAP.y;
  return { placed, width, height };
}

function edge(from: Placed, to: Placed): Html {
  const x1 = from.x + BOX.width;
  const y1 = from.y + BOX.height / 2;
  const x2 = to.x - 4;
  const y2 = to.y + BOX.height / 2;
  const bend = (x2 - x1) / 2;
  const d = `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`;
  return html`<path class="edge" d="${d}" marker-end="url(#arrow)"/>`;
}

function node({ step, x, y }: Placed): Html {
  const words = STATE_WORDS[step.state];
  const label = step.label.length > 22 ? `${step.label.slice(0, 21)}…` : step.label;
  return html`<g class="node state-${step.state}" transform="translate(${x},${y})">
<title>${step.label}: ${words}</title>
<rect width="${BOX.width}" height="${BOX.height}" rx="8"/>
<text x="12" y="19" class="node-label">${label}</text>
<text x="12" y="36" class="node-state">${words}</text>
</g>`;
}

/** An accessible picture of the graph; the step table next to it carries the same facts as text. */
export function stepGraph(steps: readonly StepView[]): Html {
  const { placed, width, height } = place(steps);
  const edges = steps.flatMap((step) =>
    step.needs.flatMap((need) => {
      const from = placed.get(need);
      const to = placed.get(step.id);
      return from && to ? [edge(from, to)] : [];
    }),
  );
  const summary = steps.map((s) => `${s.label}: ${STATE_WORDS[s.state]}`).join(', ');
  return html`<svg class="step-graph" role="img" aria-label="Step graph. ${summary}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>
${edges}
${[...placed.values()].map(node)}
</svg>`;
}
