/**
 * The plan a job was started with, on its admin page: what each step was to
 * create, where, with which settings, and what was only known afterwards.
 * Folded by default: the steps table above says what actually happened.
 */
import { resourceLine, type JobPreview } from '../../domain/preview.ts';
import { html, type Html } from './html.ts';

export function planSection(plan: JobPreview): Html {
  const approval =
    plan.approvalReasons.length === 0 ? html`<p>No approval was needed.</p>` : html`<p>Approval needed: ${plan.approvalReasons.join('; ')}.</p>`;
  const waits = plan.waitsForCustomer.map((w) => html`<p>Waits for the customer at ${w.stepId}: ${w.what}.</p>`);
  return html`<section aria-labelledby="plan-h" data-part="plan"><details class="plan"><summary><h2 id="plan-h">Plan the job was started with</h2></summary>
${approval}${waits}
<ol class="plan-steps">${plan.steps.map(
    (step) =>
      html`<li id="plan-${step.id}"><strong>${step.id}</strong>: ${step.plan.summary}${
        step.plan.resources.length === 0 ? '' : html`<ul>${step.plan.resources.map((r) => html`<li>${resourceLine(r)}</li>`)}</ul>`
      }</li>`,
  )}</ol>
</details></section>`;
}
