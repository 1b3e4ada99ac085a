/**
 * Who a Slack user is to the provisioner: their name for the audit trail, and
 * their roles — approvers come from configuration (user ids and/or a user
 * group, whose members are looked up and cached for a minute), admins from
 * SLACK_ADMINS, and every member of the workspace may request tenants. The
 * web pages sign in with Slack, so they ask the same question here. What a
 * role allows is decided once, by the domain policy behind the services.
 */
import type { WebClient } from '@slack/web-api';
import type { Identity, Role } from '../domain/policy.ts';

/** How a Slack user is named in the audit trail: "Jane Doe (U123)", so their id travels with the name. */
export function actorName(name: string, userId: string): string {
  return `${name} (${userId})`;
}

export type Directory = {
  approvers: { userIds: readonly string[]; groupId: string | undefined };
  admins: readonly string[];
};

export class People {
  private readonly client: WebClient;
  private readonly directory: Directory;
  private group: { members: Set<string>; at: number } | undefined;
  private readonly names = new Map<string, string>();

  constructor(client: WebClient, directory: Directory) {
    this.client = client;
    this.directory = directory;
  }

  /** The person behind a Slack user id, on the door they came through (Slack itself, or the web signed in with Slack). */
  async identify(userId: string, fallback: string, door: 'slack' | 'web' = 'slack'): Promise<Identity> {
    const [name, roles] = await Promise.all([this.nameOf(userId, fallback), this.rolesOf(userId)]);
    return { door, id: userId, name: actorName(name, userId), roles };
  }

  private async nameOf(userId: string, fallback: string): Promise<string> {
    let name = this.names.get(userId);
    if (name === undefined) {
      const info = await this.client.users.info({ user: userId }).catch(() => undefined);
      name = info?.user?.real_name || info?.user?.name || fallback;
      this.names.set(userId, name);
    }
    return name;
  }

  private async rolesOf(userId: string): Promise<Set<Role>> {
    const roles = new Set<Role>(['requester']);
    if (this.directory.admins.includes(userId)) roles.add('admin');
    if (await this.isApprover(userId)) roles.add('approver');
    return roles;
  }

  private async isApprover(userId: string): Promise<boolean> {
    if (this.directory.approvers.userIds.includes(userId)) return true;
    const groupId = this.directory.approvers.groupId;
    if (!groupId) return false;
    if (!this.group || Date.now() - this.group.at > 60_000) {
      const result = await this.client.usergroups.users.list({ usergroup: groupId });
      this.group = { members: new Set(result.users ?? []), at: Date.now() };
    }
    return this.group.members.has(userId);
  }
}
