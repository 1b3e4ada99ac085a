/**
 * Who is clicking: their name for the audit trail, and whether they may act.
 * Approvers come from configuration (user ids and/or a user group, whose
 * members are looked up and cached for a minute).
 */
import type { WebClient } from '@slack/web-api';
import type { Actor } from '../app/services.ts';
import type { JobView } from '../domain/job-view.ts';

export type SlackActor = Actor & { userId: string };

export type OperatorVerb = 'approve' | 'reject' | 'retry' | 'override' | 'rollback' | 'provide input';

/** How a Slack user is named in the audit trail: "Jane Doe (U123)", so their id travels with the name. */
export function actorName(name: string, userId: string): string {
  return `${name} (${userId})`;
}

export function requestedByUser(job: JobView, userId: string): boolean {
  return job.requestedBy.endsWith(`(${userId})`);
}

export class People {
  private readonly client: WebClient;
  private readonly approvers: { userIds: readonly string[]; groupId: string | undefined };
  private readonly allowSelfApproval: boolean;
  private group: { members: Set<string>; at: number } | undefined;
  private readonly names = new Map<string, string>();

  constructor(client: WebClient, userIds: readonly string[], groupId: string | undefined, allowSelfApproval: boolean) {
    this.client = client;
    this.approvers = { userIds, groupId };
    this.allowSelfApproval = allowSelfApproval;
  }

  async actor(userId: string, fallback: string): Promise<SlackActor> {
    let name = this.names.get(userId);
    if (name === undefined) {
      const info = await this.client.users.info({ user: userId }).catch(() => undefined);
      name = info?.user?.real_name || info?.user?.name || fallback;
      this.names.set(userId, name);
    }
    return { userId, name: actorName(name, userId) };
  }

  /** Null when the user may do this to this job; otherwise why not, in words. */
  async refusal(userId: string, verb: OperatorVerb, job: JobView): Promise<string | null> {
    if (verb === 'provide input' && requestedByUser(job, userId)) return null;
    if (!(await this.isApprover(userId))) {
      return `Only approvers can ${verb} provisioning jobs; ask one of the approvers named in the thread.`;
    }
    if ((verb === 'approve' || verb === 'reject') && !this.allowSelfApproval && requestedByUser(job, userId)) {
      return 'You requested this tenant, so someone else has to approve it.';
    }
    return null;
  }

  private async isApprover(userId: string): Promise<boolean> {
    if (this.approvers.userIds.includes(userId)) return true;
    const groupId = this.approvers.groupId;
    if (!groupId) return false;
    if (!this.group || Date.now() - this.group.at > 60_000) {
      const result = await this.client.usergroups.users.list({ usergroup: groupId });
      this.group = { members: new Set(result.users ?? []), at: Date.now() };
    }
    return this.group.members.has(userId);
  }
}
