/**
 * How the tenant-data steps name a database failure decides whether the
 * engine retries: a connection the server dropped is passing, whatever the
 * driver wraps it in.
 */
import net from 'node:net';
import { MongoClient } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { TransientError } from '../../src/domain/errors.ts';
import { tenantDb } from '../../src/steps/tenant-data/mongo.ts';
import { serverUrl } from '../support/servers.ts';

/** A relay to the test server that drops the connection an insert arrives on, as a server that restarts mid-write. */
async function dropOnInsert(): Promise<{ url: string; close(): void }> {
  const target = new URL(serverUrl('MONGODB_URI'));
  const insert = Buffer.from('\x02insert\x00');
  const relay = net.createServer((socket) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    socket.on('data', (chunk: Buffer) => {
      if (chunk.includes(insert)) socket.end();
      else upstream.write(chunk);
    });
    upstream.pipe(socket);
    socket.on('error', () => upstream.destroy());
    socket.on('close', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  const address = relay.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { url: `mongodb://127.0.0.1:${address.port}/`, close: () => relay.close() };
}

describe('a tenant data write the server drops', () => {
  const opened: { client?: MongoClient; relay?: { close(): void } } = {};
  afterEach(async () => {
    await opened.client?.close();
    opened.relay?.close();
  });

  it('is a transient error (the step is retried), not "the database rejected" it', async () => {
    const relay = await dropOnInsert();
    opened.relay = relay;
    const client = new MongoClient(relay.url, { serverSelectionTimeoutMS: 2_000 });
    opened.client = client;
    const seeding = tenantDb(
      'loading seed 2026.11.0',
      () =>
        client
          .db('tenant_dropped')
          .collection('roles')
          .insertMany([{ name: 'admin' }]),
      client,
    );

    await expect(seeding).rejects.toBeInstanceOf(TransientError);
    await expect(seeding).rejects.toThrow('tenant database server unreachable while loading seed 2026.11.0; will retry');
  });
});
