/**
 * Sequential reader of one generation file's records, in large chunks. Used on open (to validate and
 * find the torn tail) and by `readOps`. Each chunk is a fresh buffer, so record bodies and the binary
 * values decoded from them stay valid after the scanner moves on (no per-record copy).
 */
import { FRAME, RECORD_OVERHEAD_BYTES, checkRecordAt } from './format.js';
import { readFully, type TranslogFile } from './io.js';

/** Bytes read per chunk: large enough that a 100k-op replay takes a few hundred reads. */
export const SCAN_CHUNK_BYTES = 4 * 1024 * 1024;

/** What `RecordScanner.next()` found. */
export const SCAN = {
  /** A complete, checksum-valid record: see `body`, `recordOffset`, `recordSizeBytes`. */
  record: 0,
  /** The scan reached `endOffset` exactly on a record boundary. */
  end: 1,
  /** The bytes at `recordOffset` are not a complete valid record; `invalidReason` says why. */
  invalid: 2,
} as const;

/** Reads records of `file` from `startOffset` up to `endOffset` (exclusive). */
export class RecordScanner {
  /** Body of the last record found (a view into a chunk). */
  body: Uint8Array = new Uint8Array(0);
  /** File offset of the last record found, or of the invalid bytes. */
  recordOffset = 0;
  recordSizeBytes = 0;
  invalidReason = '';

  private chunk: Buffer = Buffer.alloc(0);
  /** File offset of chunk[0]. */
  private chunkFileOffset: number;
  private pos = 0;
  private filled = 0;
  /** True once the file returned fewer bytes than asked: nothing more will come. */
  private exhausted = false;
  private readonly bodyLength = { value: 0 };

  constructor(
    private readonly file: TranslogFile,
    startOffset: number,
    private readonly endOffset: number,
  ) {
    this.chunkFileOffset = startOffset;
  }

  /** File offset of the next unread byte (the end of the last record found). */
  get offset(): number {
    return this.chunkFileOffset + this.pos;
  }

  /** Finds the next record, reading more of the file when needed. */
  async next(): Promise<number> {
    for (;;) {
      const found = this.nextBuffered();
      if (found !== -1) return found;
      await this.readMore();
    }
  }

  /** Like `next` without I/O: returns -1 when the next record is not wholly buffered. */
  nextBuffered(): number {
    const offset = this.chunkFileOffset + this.pos;
    if (offset === this.endOffset) return SCAN.end;
    const available = Math.min(this.filled - this.pos, this.endOffset - offset);
    const frame = checkRecordAt(this.chunk, this.pos, available, this.bodyLength);
    this.recordOffset = offset;
    if (frame === FRAME.ok) {
      const size = this.bodyLength.value + RECORD_OVERHEAD_BYTES;
      this.body = this.chunk.subarray(this.pos + 4, this.pos + 4 + this.bodyLength.value);
      this.recordSizeBytes = size;
      this.pos += size;
      return SCAN.record;
    }
    if (frame === FRAME.needMore) {
      // Complete bytes end before the limit, or the file itself ended: a torn record.
      const limitReached = this.filled - this.pos >= this.endOffset - offset;
      if (limitReached || this.exhausted) {
        this.invalidReason = available < 4 ? 'incomplete length field' : 'incomplete record';
        return SCAN.invalid;
      }
      return -1;
    }
    this.invalidReason = frame === FRAME.badLength ? 'bad record length' : 'record checksum mismatch';
    return SCAN.invalid;
  }

  /** Reads the next chunk of the file (call when `nextBuffered` returned -1). */
  async readMore(): Promise<void> {
    const leftover = this.filled - this.pos;
    // Room for the whole pending record when its length is known and it is larger than a chunk.
    const needed = leftover >= 4 ? this.bodyLength.value + RECORD_OVERHEAD_BYTES : 0;
    const remainingInFile = this.endOffset - (this.chunkFileOffset + this.filled);
    const size = Math.min(Math.max(SCAN_CHUNK_BYTES, needed), leftover + remainingInFile);
    const next = Buffer.allocUnsafe(size);
    if (leftover > 0) this.chunk.copy(next, 0, this.pos, this.filled);
    this.chunkFileOffset += this.pos;
    this.pos = 0;
    this.chunk = next;
    const want = size - leftover;
    const got = await readFully(this.file, next, leftover, want, this.chunkFileOffset + leftover);
    this.filled = leftover + got;
    if (got < want) this.exhausted = true;
  }
}
