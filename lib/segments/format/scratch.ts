/**
 * A growable byte buffer with inlined varint/byte/u32/bytes writers, reused across terms and blocks
 * by the postings and term-dictionary encoders (one allocation per doubling, none per write).
 */
import { writeU32 } from './keys.js';

/** Growable scratch bytes; `pos` is the write offset, `buf.subarray(0, pos)` the content. */
export class ByteScratch {
  buf: Uint8Array;
  pos = 0;

  constructor(initialBytes = 4096) {
    this.buf = new Uint8Array(initialBytes);
  }

  ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  varint(value: number): void {
    if (this.pos + 5 > this.buf.length) this.ensure(5);
    const b = this.buf;
    let v = value >>> 0;
    while (v >= 0x80) {
      b[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    b[this.pos++] = v;
  }

  byte(value: number): void {
    if (this.pos + 1 > this.buf.length) this.ensure(1);
    this.buf[this.pos++] = value;
  }

  u32(value: number): void {
    if (this.pos + 4 > this.buf.length) this.ensure(4);
    writeU32(this.buf, this.pos, value);
    this.pos += 4;
  }

  bytes(src: Uint8Array, start: number, end: number): void {
    this.ensure(end - start);
    if (end - start > 64) {
      this.buf.set(src.subarray(start, end), this.pos);
      this.pos += end - start;
      return;
    }
    // Short copies (most suffixes and inline postings): a loop beats allocating a subarray view.
    const buf = this.buf;
    let pos = this.pos;
    for (let i = start; i < end; i++) buf[pos++] = src[i];
    this.pos = pos;
  }
}

/** Bytes of `value` as an unsigned LEB128 varint (1–5). */
export function varintSize(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : value < 0x10000000 ? 4 : 5;
}

/** Writes `value` as an unsigned LEB128 varint at out[pos]; returns the position after it. */
export function putVarint(out: Uint8Array, pos: number, value: number): number {
  let v = value >>> 0;
  while (v >= 0x80) {
    out[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[pos++] = v;
  return pos;
}
