import { describe, expect, it } from 'vitest';
import { auditText, type AuditEntry } from '../../../src/domain/audit.ts';
import { auditBlocks, helpBlocks, listBlocks, refusal, staleFailureText, statusBlocks } from '../../../src/slack/blocks/responses.ts';
import { LIMITS } from '../../../src/slack/blocks/text.ts';
import { allTexts, buttons, job, step, typicalSteps } from './fixtures.ts';

/** n audit entries a minute apart from 23:00, so the trail crosses midnight. */
function trail(n: number): string[] {
  const entries = Array.from(
    { length: n },
    (_, i): AuditEntry => ({
      id: String(i),
      jobId: 'acme-3f9a1c0b2d',
      tenantSlug: 'acme',
      companyName: 'Acme Corp',
      at: new Date(2026, 10, 24, 23, i),
      type: 'step.succeeded',
      actor: 'provisioner',
      summary: `Entry ${i}: DNS record acme.tenants.example.com created and verified`,
      durationMs: 1200,
    }),
  );
  return auditText(entries);
}

const view = job({ status: 'failed', steps: typicalSteps() });

describe('/provision audit acme', () => {
  it('shows a short trail whole, with its date heading in bold', () => {
    const message = auditBlocks(view, trail(3), { verbose: false });
    const text = allTexts(message).join('\n');
    expect(text).toContain('*Tuesday 24 November 2026*');
    expect(text).toContain('23:02 Entry 2: DNS record acme.tenants.example.com created and verified (1.2 s)');
    expect(text).not.toContain('shows the whole trail');
  });

  describe('of 500 lines', () => {
    const lines = trail(500);
    const message = auditBlocks(view, lines, { verbose: false });
    const texts = allTexts(message);
    const all = texts.join('\n');

    it('stays within the limits of a message', () => {
      expect(message.blocks.length).toBeLessThanOrEqual(LIMITS.messageBlocks);
      for (const t of texts) expect(t.length).toBeLessThanOrEqual(LIMITS.text);
    });

    it('shows the newest lines, under the heading of their day', () => {
      expect(all).toContain('Entry 499:');
      expect(all).not.toContain('Entry 0:');
      expect(all).toContain('*Wednesday 25 November 2026*');
    });

    it('says how many it shows and how to see the rest', () => {
      expect(all).toMatch(new RegExp(`Showing the newest \\d+ of ${lines.length} lines`));
      expect(all).toContain('`npx provisioner audit acme` shows the whole trail');
    });

    it('keeps --verbose in the pointer when the verbose trail was asked for', () => {
      expect(allTexts(auditBlocks(view, lines, { verbose: true })).join('\n')).toContain(
        '`npx provisioner audit acme --verbose` shows the whole trail',
      );
    });
  });

  it('says so when nothing was recorded yet', () => {
    expect(allTexts(auditBlocks(view, [], { verbose: false })).join('\n')).toContain('Nothing recorded yet.');
  });
});

describe('/provision status acme', () => {
  const message = statusBlocks(view);
  const text = allTexts(message).join('\n');

  it('shows the job like the progress message, with what to do next', () => {
    expect(text).toContain(':x: *billing* — failed');
    expect(text).toContain('*What next:* Retry or override the failed step');
    expect(text).toContain('Audit: `/provision audit acme`');
  });

  it('carries no buttons: only the asker sees it', () => {
    expect(buttons(message)).toEqual([]);
  });
});

describe('/provision list', () => {
  it('gives one line per job', () => {
    const jobs = [
      view,
      job({ status: 'awaiting_approval', slug: 'globex', companyName: 'Globex', steps: [step('approval_gate', 'waiting_approval')] }),
    ];
    const text = allTexts(listBlocks(jobs)).join('\n');
    expect(text).toContain('*2 jobs*');
    expect(text).toContain('*Acme Corp* · enterprise plan · `acme` — :x: Failed');
    expect(text).toContain('*Globex* · enterprise plan · `globex` — :raised_hand: Waiting for approval');
  });

  it('stays within limits for 1000 jobs and says where the rest are', () => {
    const many = Array.from({ length: 1000 }, (_, i) => job({ status: 'running', slug: `tenant-${i}`, steps: typicalSteps() }));
    const message = listBlocks(many);
    expect(message.blocks.length).toBeLessThanOrEqual(LIMITS.messageBlocks);
    for (const t of allTexts(message)) expect(t.length).toBeLessThanOrEqual(LIMITS.text);
    expect(allTexts(message).join('\n')).toMatch(/…and \d+ more \(`npx provisioner list` shows them all\)/);
  });

  it('says when nothing needs attention', () => {
    expect(listBlocks([]).text).toBe('No jobs need attention');
  });
});

describe('/provision help', () => {
  it('lists every subcommand', () => {
    const text = allTexts(helpBlocks()).join('\n');
    for (const command of ['`/provision`', '`/provision status <slug>`', '`/provision audit <slug>`', '`/provision list`', '`/provision help`']) {
      expect(text).toContain(command.replace('<', '&lt;').replace('>', '&gt;'));
    }
  });
});

describe('a refused click', () => {
  it('explains in one escaped line', () => {
    const message = refusal('This button is out of date: <the job moved on>.');
    expect(message.text).toBe('This button is out of date: &lt;the job moved on&gt;.');
    expect(allTexts(message.blocks)).toEqual([':no_entry: This button is out of date: &lt;the job moved on&gt;.']);
  });
});

describe('a Retry or Override clicked on an earlier failure', () => {
  it('says the step failed again since, and which message to act on', () => {
    const text = staleFailureText({ stepId: 'seed_data', why: 'failed_again', state: 'failed' });
    expect(text).toBe(
      'Nothing changed: this button is for an earlier failure of step seed data, which has been retried and failed again since. Use Retry or Override on the latest failure message in the thread.',
    );
  });

  it('says the failure was dealt with, and where the step is now', () => {
    expect(staleFailureText({ stepId: 'billing', why: 'moved_on', state: 'overridden' })).toBe(
      'Nothing changed: that failure of step billing was already dealt with; the step is done by hand now.',
    );
  });
});
