/**
 * Name-based UUIDs (RFC 9562 version 5): the same name always gives the same
 * UUID, so every attempt of a step sends AWS the same ClientRequestToken
 * (Secrets Manager wants 32–64 characters; a UUID is 36).
 */
import { createHash } from 'node:crypto';

/** Our own namespace, so tokens never collide with UUIDv5s another tool derives from the same text. */
export const PROVISIONER_UUID_NAMESPACE = '3f1c9b52-7d4e-4a8b-9c61-2e5f0a7d8b14';

function uuidBytes(uuid: string): Buffer {
  const hex = uuid.replaceAll('-', '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new Error(`not a UUID: ${uuid}`);
  return Buffer.from(hex, 'hex');
}

export function uuidV5(name: string, namespace: string = PROVISIONER_UUID_NAMESPACE): string {
  const hash = createHash('sha1').update(uuidBytes(namespace)).update(name, 'utf8').digest();
  const bytes = hash.subarray(0, 16);
  bytes.writeUInt8((bytes.readUInt8(6) & 0x0f) | 0x50, 6); // version 5
  bytes.writeUInt8((bytes.readUInt8(8) & 0x3f) | 0x80, 8); // RFC variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
