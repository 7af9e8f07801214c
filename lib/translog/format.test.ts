import { cp } from 'node:fs/promises';
import { describe, expect, it, afterEach } from 'vitest';
import {
  CHECKPOINT_SLOT_BYTES,
  GENERATION_HEADER_BYTES,
  decodeBody,
  decodeCheckpoint,
  decodeGenerationHeader,
  encodeCheckpoint,
  encodeGenerationHeader,
  encodeOpBody,
  type CheckpointState,
} from './format.js';
import { FIXTURE_V1_DIR, FIXTURE_V1_OPS, FIXTURE_V1_UUID } from './make-fixture.js';
import { normalize, readAll, tempDirs } from './test-support.js';
import { Translog } from './translog.js';

const dirs = tempDirs();
afterEach(() => dirs.cleanup());

describe('translog format v1', () => {
  it('reads the frozen v1 fixture', async () => {
    // Goal: translogs written by format v1 stay readable; a format change that breaks them fails here.
    const dir = await dirs.make();
    await cp(FIXTURE_V1_DIR, dir, { recursive: true });
    const translog = await Translog.open(dir);
    expect(translog.uuid).toBe(FIXTURE_V1_UUID);
    expect(translog.currentGeneration).toBe(2);
    expect(translog.globalCheckpoint).toBe(3);
    expect(translog.lastSyncedSeqNo).toBe(2 ** 40);
    expect(await readAll(translog)).toEqual(FIXTURE_V1_OPS.map(normalize));
    await translog.close();
  });

  it('encodes an op body as a plain msgpack array', async () => {
    // Goal: the body bytes are standard msgpack (fixarray, type code, str, ints, nil), pinned byte for byte.
    const body = encodeOpBody({ type: 'delete', id: 'doc-1', seqNo: 2, primaryTerm: 2, version: 2 });
    expect(Buffer.from(body).toString('hex')).toBe('9801a5646f632d31020202c0c0c0');
    expect(decodeBody(Buffer.from(body))).toEqual({
      kind: 'op',
      op: { type: 'delete', id: 'doc-1', seqNo: 2, primaryTerm: 2, version: 2 },
    });
  });

  it('rejects malformed but checksum-valid bodies with a reason', () => {
    // Goal: decodeBody names what is wrong instead of returning a half-built op.
    expect(decodeBody(Buffer.from([0xc0]))).toBe('body is not an array');
    expect(decodeBody(Buffer.from([0x95, 0x09, 0xa0, 0, 0, 0]))).toMatch(/unknown record type/);
    expect(decodeBody(Buffer.from([0x95, 0x00, 0x01, 0, 0, 0]))).toBe('malformed op record');
  });

  it('round-trips headers and checkpoint slots and detects damage', () => {
    // Goal: encode/decode are inverse, and a flipped byte or another version makes a slot invalid.
    const header = encodeGenerationHeader({ generation: 7, uuid: 'u-1' });
    expect(header.length).toBe(GENERATION_HEADER_BYTES);
    expect(decodeGenerationHeader(header)).toEqual({ generation: 7, uuid: 'u-1' });
    header[30] ^= 1;
    expect(decodeGenerationHeader(header)).toBe('header checksum mismatch');

    const state: CheckpointState = {
      sequence: 12,
      generation: 3,
      offset: 123456789012,
      numOps: 5,
      minSeqNo: -1,
      maxSeqNo: 2 ** 50,
      globalCheckpoint: -2,
      minTranslogGeneration: 2,
      uuid: 'abc',
    };
    const slot = new Uint8Array(CHECKPOINT_SLOT_BYTES);
    encodeCheckpoint(state, slot);
    expect(decodeCheckpoint(slot)).toEqual(state);
    const versioned = Uint8Array.from(slot);
    versioned[4] = 2;
    expect(decodeCheckpoint(versioned)).toBeNull();
    slot[100] ^= 0x80;
    expect(decodeCheckpoint(slot)).toBeNull();
  });
});
