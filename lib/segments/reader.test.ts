import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ShardStorage } from './env.js';
import { SegmentBuilder } from './builder.js';
import { writeSegment } from './writer.js';
import { deleteSegmentData, listStoredSegmentIds, openSegmentReader, readSegmentInfo } from './reader.js';
import { expectReaderMatches, tempStorage } from './format/model.test-helper.js';
import { decodeMeta } from './format/meta.js';
import { segmentPrefix } from './format/keys.js';
import { NO_MORE_DOCS, type DocumentInput, type SegmentInfo, type SegmentReader } from './types.js';

/** Docs with a multi-block term (positions), a docs-only field, doc values, routing and unicode. */
function sampleDocs(count: number): DocumentInput[] {
  return Array.from({ length: count }, (_, i): DocumentInput => {
    const title = ['common', `t${i % 5}`, i % 3 === 0 ? 'common' : 'rare', 'ünï'];
    return {
      id: `doc-${i}-ß`,
      seqNo: 100 + i,
      version: 1 + (i % 3),
      primaryTerm: 2,
      ...(i % 4 === 0 ? { routing: `r${i % 8}` } : {}),
      source: new TextEncoder().encode(JSON.stringify({ i, title: title.join(' ') })),
      inverted: [
        { field: 'title', indexOptions: 'positions', norms: true, terms: title, positions: [0, 1, 2, 4], length: 4 },
        { field: 'tag', indexOptions: 'docs', norms: false, terms: [`g${i % 2}`], length: 1 },
      ],
      docValues: [
        { field: 'n', type: 'numeric', values: i % 5 === 0 ? [] : [i, -i / 2] },
        { field: 'k', type: 'keyword', values: [`k${i % 3}`] },
      ],
    };
  });
}

/** Reads every byte a reader can reach: all terms, postings with freqs and positions, norms, columns, stored docs. */
function readEverything(reader: SegmentReader): void {
  for (const field of reader.fields()) {
    reader.norms(field);
    reader.fieldStats(field);
    for (const [term] of reader.terms(field)) {
      const cursor = reader.postings(field, term);
      if (cursor === null) throw new Error(`term ${field}:${term} listed but has no postings`);
      while (cursor.next() !== NO_MORE_DOCS) {
        cursor.freq();
        cursor.positions();
      }
    }
  }
  reader.numericColumn('n');
  reader.keywordColumn('k');
  for (let doc = 0; doc < reader.maxDoc; doc++) {
    reader.meta(doc);
    reader.source(doc);
  }
  reader.lookupId('doc-3-ß');
}

describe('segment reader', () => {
  let storage: ShardStorage;
  let cleanup: () => Promise<void>;
  beforeAll(() => ({ storage, cleanup } = tempStorage()));
  afterAll(async () => cleanup());

  async function write(segmentId: number, docs: DocumentInput[]): Promise<SegmentInfo> {
    const builder = new SegmentBuilder();
    for (const doc of docs) builder.addDocument(doc);
    return (await writeSegment(storage, segmentId, builder)).info;
  }

  it('turns any flipped byte in any stored value into corrupt_index_exception', async () => {
    // Goal: LMDB has no checksums of its own, so every value we store carries a CRC32C; flipping one
    // byte of any key's value (postings, positions, norms, doc values, stored blocks, block index, version
    // columns, meta) must raise corrupt_index_exception naming the segment — never a crash or wrong data.
    const docs = sampleDocs(300);
    const info = await write(50, docs);
    readEverything(openSegmentReader(storage, info));
    const range = { start: segmentPrefix(50), end: segmentPrefix(51) };
    const entries = [
      ...[...storage.data.getRange(range)].map(({ key, value }) => ({ db: storage.data, key: Buffer.from(key as Buffer), value: Buffer.from(value as Buffer) })),
      ...[...storage.sources.getRange(range)].map(({ key, value }) => ({ db: storage.sources, key: Buffer.from(key as Buffer), value: Buffer.from(value as Buffer) })),
    ];
    expect(entries.length).toBeGreaterThan(20);
    let checked = 0;
    for (const { db, key, value } of entries) {
      for (const at of new Set([0, value.length >> 1, value.length - 1])) {
        const bad = Buffer.from(value);
        bad[at] ^= 0x04;
        await db.put(key, bad);
        let error: { type?: string; message: string } | null = null;
        try {
          const stored = readSegmentInfo(storage, 50);
          readEverything(openSegmentReader(storage, stored ?? info));
        } catch (e) {
          error = e as { type?: string; message: string };
        }
        expect(error?.type, `flip of byte ${at} in ${key.toString('latin1')} gave ${error?.message}`).toBe('corrupt_index_exception');
        expect(error!.message).toContain('segment [50]');
        checked++;
        await db.put(key, value);
      }
    }
    readEverything(openSegmentReader(storage, info));
    console.log(`corruption: ${checked} flips over ${entries.length} keys, all detected`);
  });

  it('lists and deletes stored segments', async () => {
    // Goal: listStoredSegmentIds finds every segment with any key (complete or not) and deleteSegmentData
    // removes all of a segment's keys in both databases, leaving its neighbours intact.
    await write(60, sampleDocs(40));
    await write(61, sampleDocs(3));
    await write(0xfffffffe, sampleDocs(2));
    const before = listStoredSegmentIds(storage);
    expect(before).toEqual(expect.arrayContaining([60, 61, 0xfffffffe]));
    await deleteSegmentData(storage, 60);
    expect(readSegmentInfo(storage, 60)).toBeNull();
    expect([...storage.data.getKeys({ start: segmentPrefix(60), end: segmentPrefix(61) })]).toEqual([]);
    expect([...storage.sources.getKeys({ start: segmentPrefix(60), end: segmentPrefix(61) })]).toEqual([]);
    expect(listStoredSegmentIds(storage)).toEqual(before.filter((id) => id !== 60));
    expectReaderMatches(openSegmentReader(storage, readSegmentInfo(storage, 61)!), sampleDocs(3));
  });
});

describe('format v2 fixture', () => {
  // The fixture freezes the bytes of a tiny segment. If this test fails after a change, the change alters
  // the on-disk format: bump FORMAT_VERSION, decide whether older segments stay readable (v1 ones are
  // refused, see docs/segments-format.md), and regenerate with UPDATE_SEGMENT_FIXTURE=1 deliberately.
  const fixturePath = fileURLToPath(new URL('./format/fixtures/v2-tiny.json', import.meta.url));
  let storage: ShardStorage;
  let cleanup: () => Promise<void>;
  beforeAll(() => ({ storage, cleanup } = tempStorage()));
  afterAll(async () => cleanup());

  const SEGMENT_ID = 7;
  const docs = sampleDocs(3);

  function dump(): { data: string[][]; sources: string[][] } {
    const range = { start: segmentPrefix(SEGMENT_ID), end: segmentPrefix(SEGMENT_ID + 1) };
    const hex = (db: ShardStorage['data']) => [...db.getRange(range)].map(({ key, value }) => [(key as Buffer).toString('hex'), (value as Buffer).toString('hex')]);
    return { data: hex(storage.data), sources: hex(storage.sources) };
  }

  it('reads the frozen v2 bytes and writes the same bytes today', async () => {
    // Goal: a segment written by format v2 stays readable, and today's writer still produces exactly those bytes.
    const builder = new SegmentBuilder();
    for (const doc of docs) builder.addDocument(doc);
    await writeSegment(storage, SEGMENT_ID, builder);
    const current = dump();
    if (process.env.UPDATE_SEGMENT_FIXTURE === '1' || !existsSync(fixturePath)) writeFileSync(fixturePath, JSON.stringify(current, null, 1) + '\n');
    const frozen = JSON.parse(readFileSync(fixturePath, 'utf8')) as { data: string[][]; sources: string[][] };

    // Same bytes, except the meta's creation time.
    const isMeta = ([key]: string[]) => key.endsWith('5a') && key.length === 12;
    expect(current.data.filter((e) => !isMeta(e))).toEqual(frozen.data.filter((e) => !isMeta(e)));
    expect(current.sources).toEqual(frozen.sources);
    const metaOf = (entries: string[][]) => {
      const meta = decodeMeta(Buffer.from(entries.find(isMeta)![1], 'hex'), SEGMENT_ID);
      return { ...meta, createdAtMs: 0 };
    };
    expect(metaOf(current.data)).toEqual(metaOf(frozen.data));

    // The frozen bytes, loaded into a fresh segment id range, read back as the docs.
    await deleteSegmentData(storage, SEGMENT_ID);
    for (const [key, value] of frozen.data) await storage.data.put(Buffer.from(key, 'hex'), Buffer.from(value, 'hex'));
    for (const [key, value] of frozen.sources) await storage.sources.put(Buffer.from(key, 'hex'), Buffer.from(value, 'hex'));
    const info = readSegmentInfo(storage, SEGMENT_ID)!;
    expect(info).toMatchObject({ id: SEGMENT_ID, maxDoc: 3, formatVersion: 2, minSeqNo: 100, maxSeqNo: 102 });
    expectReaderMatches(openSegmentReader(storage, info), docs);
  });
});
