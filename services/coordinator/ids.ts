/**
 * Auto-generated document ids, shaped like Elasticsearch's time-based UUIDs: 15 bytes (a 3-byte
 * sequence, a 6-byte millisecond timestamp, 6 random bytes fixed per process) as 20 characters of
 * base64url. Leading with the low sequence bytes and then the timestamp keeps ids made close in time
 * sharing long prefixes, which is what makes them cheap in an ordered term dictionary.
 */
import { randomBytes, randomInt } from 'node:crypto';

const ID_SIZE_BYTES = 15;
const SEQUENCE_MASK = 0xffffff;

/** Per-process bytes standing in for Elasticsearch's MAC address: keeps two nodes' ids apart. */
const processBytes = randomBytes(6);
let sequence = randomInt(0, SEQUENCE_MASK + 1);
let lastTimestampMs = 0;

/** A new 20-character id, unique within this process and (with overwhelming probability) across nodes. */
export function generateId(): string {
  sequence = (sequence + 1) & SEQUENCE_MASK;
  // Never let the timestamp go backwards (clock adjustments); when the sequence wraps within the
  // same millisecond, borrow the next millisecond, as Elasticsearch does.
  let timestampMs = Math.max(Date.now(), lastTimestampMs);
  if (sequence === 0) timestampMs = Math.max(timestampMs, lastTimestampMs + 1);
  lastTimestampMs = timestampMs;

  const bytes = Buffer.allocUnsafe(ID_SIZE_BYTES);
  bytes[0] = sequence & 0xff;
  bytes[1] = (sequence >>> 16) & 0xff;
  // Timestamp bytes from high to low, except that the low-order byte pair moves behind the
  // per-process bytes, following Elasticsearch's layout for prefix sharing.
  const high = Math.floor(timestampMs / 2 ** 16);
  bytes[2] = (high >>> 0) & 0xff;
  bytes[3] = (high >>> 8) & 0xff;
  bytes[4] = (high >>> 16) & 0xff;
  bytes[5] = (high >>> 24) & 0xff;
  processBytes.copy(bytes, 6);
  bytes[12] = (timestampMs >>> 8) & 0xff;
  bytes[13] = (sequence >>> 8) & 0xff;
  bytes[14] = timestampMs & 0xff;
  return bytes.toString('base64url');
}
