/** What a tenant uses now, read from its own data: what a downgrade is checked against. */
export type TenantDataLocation = { tenantId: string; databaseName: string; isolation: 'shared' | 'dedicated' };

export interface TenantUsage {
  /** People with an account in the tenant that is not deactivated. */
  activeUsers(tenant: TenantDataLocation): Promise<number>;
}
