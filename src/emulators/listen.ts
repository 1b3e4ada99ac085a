/** Every emulator listens on loopback only (never on all interfaces), on the port asked for or a free one. */
import type { Server } from 'node:http';

/** Starts listening; resolves with the port actually bound. */
export async function listenOnLoopback(server: Server, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the emulator has no TCP address');
  return address.port;
}
