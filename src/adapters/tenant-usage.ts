/**
 * Usage read from the tenant's own database: its people are documents in the
 * product's `users` collection (in the tenant's layout), and one marked
 * `active: false` is deactivated.
 */
import type { MongoClient } from 'mongodb';
import type { TenantDataLocation, TenantUsage } from '../ports/tenant-usage.ts';
import { collectionNameFor } from '../steps/tenant-data/layout.ts';

export class MongoTenantUsage implements TenantUsage {
  private readonly client: MongoClient;

  constructor(client: MongoClient) {
    this.client = client;
  }

  async activeUsers(tenant: TenantDataLocation): Promise<number> {
    const users = this.client.db(tenant.databaseName).collection(collectionNameFor(tenant.isolation, tenant.tenantId, 'users'));
    return users.countDocuments({ active: { $ne: false } });
  }
}
