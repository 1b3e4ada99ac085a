/**
 * Customer status links: one per share, unguessable (a random id, signed
 * with the job id so a forged or altered link is refused before any lookup),
 * revocable (the record can be withdrawn), and expiring a configured number
 * of days after the tenant went live.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { sameBytes } from '../domain/same-bytes.ts';
import type { JobView } from '../domain/job-view.ts';
import type { StatusLinkRecord, StatusLinkStore } from '../ports/store.ts';

const DAY = 86_400_000;

export type StatusLinkSettings = { secret: string; daysAfterLive: number };

export class StatusLinks {
  private readonly store: StatusLinkStore;
  private readonly settings: StatusLinkSettings;

  constructor(store: StatusLinkStore, settings: StatusLinkSettings) {
    this.store = store;
    this.settings = settings;
  }

  private mac(linkId: string, jobId: string): string {
    return createHmac('sha256', this.settings.secret).update(`status-link\n${linkId}\n${jobId}`).digest('base64url');
  }

  /** A new link token for the job (the path is /status/<token>). */
  async create(jobId: string, createdBy: string, now = new Date()): Promise<string> {
    const linkId = randomBytes(16).toString('base64url');
    await this.store.saveStatusLink({ _id: linkId, jobId, createdBy, createdAt: now });
    return this.tokenOf(linkId, jobId);
  }

  /** The job a token is for, when it is ours, not withdrawn and not past its expiry; otherwise undefined. */
  async resolve(token: string, view: (jobId: string) => Promise<JobView | null>, now = Date.now()): Promise<JobView | undefined> {
    const [linkId, encodedJob, mac] = token.split('.');
    if (!linkId || !encodedJob || !mac || token.length > 300) return undefined;
    const jobId = Buffer.from(encodedJob, 'base64url').toString('utf8');
    if (!sameBytes(this.mac(linkId, jobId), mac)) return undefined;
    const record: StatusLinkRecord | null = await this.store.statusLink(linkId);
    if (!record || record.jobId !== jobId || record.revokedAt) return undefined;
    const job = await view(jobId);
    if (!job) return undefined;
    const liveAt = job.status === 'live' ? Math.max(0, ...job.steps.map((s) => s.finishedAt ?? 0)) : undefined;
    if (liveAt !== undefined && now > liveAt + this.settings.daysAfterLive * DAY) return undefined;
    return job;
  }

  /** The newest link shared for the job that still works (not withdrawn, not expired), if any. */
  async current(jobId: string, view: (jobId: string) => Promise<JobView | null>): Promise<string | undefined> {
    const links = await this.store.statusLinksOf(jobId);
    const [newest] = links.filter((l) => !l.revokedAt).sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
    if (!newest) return undefined;
    const token = this.tokenOf(newest._id, jobId);
    return (await this.resolve(token, view)) ? token : undefined;
  }

  private tokenOf(linkId: string, jobId: string): string {
    return `${linkId}.${Buffer.from(jobId).toString('base64url')}.${this.mac(linkId, jobId)}`;
  }

  /** Withdraws every link shared for the job; returns how many were live. */
  revokeAll(jobId: string, now = new Date()): Promise<number> {
    return this.store.revokeStatusLinks(jobId, now);
  }
}
