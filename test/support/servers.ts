/**
 * The real servers the tests talk to. scripts/with-services.ts (behind
 * `npm test`) starts them and passes their URLs in the environment; a test
 * run without it is told so instead of failing somewhere obscure.
 */
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll } from 'vitest';

type Server = 'MONGODB_URI' | 'AWS_ENDPOINT_URL' | 'REDIS_URL';

export function serverUrl(variable: Server): string {
  const url = process.env[variable];
  if (url === undefined || url === '') {
    throw new Error(
      `${variable} is not set: run the tests with \`npm test\` (scripts/with-services.ts starts the servers), or point ${variable} at a running server`,
    );
  }
  return url;
}

/** A MongoDB client for the file, and database names that are dropped after each test. */
export function databasesPerTest(): { client(): MongoClient; uniqueName(prefix: string): string } {
  let client: MongoClient | undefined;
  const toDrop = new Set<string>();
  const current = (): MongoClient => {
    if (!client) throw new Error('the MongoDB client is not open yet (use it inside a test)');
    return client;
  };
  beforeAll(() => {
    client = new MongoClient(serverUrl('MONGODB_URI'));
  });
  afterEach(async () => {
    for (const name of toDrop) await current().db(name).dropDatabase();
    toDrop.clear();
  });
  afterAll(async () => {
    await client?.close();
  });
  return {
    client: current,
    uniqueName(prefix) {
      const name = `${prefix}_${randomBytes(4).toString('hex')}`;
      toDrop.add(name);
      return name;
    },
  };
}
