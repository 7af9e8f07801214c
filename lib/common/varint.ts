/** Growable byte writer and reader with unsigned LEB128 varints: the primitive of our binary formats. */

/** Appends bytes and varints to a growing buffer; `finish()` returns the written bytes. */
export class ByteWriter {
  buf: Uint8Array;
  pos = 0;

  constructor(initialSizeBytes = 1024) {
    this.buf = new Uint8Array(initialSizeBytes);
  }

  ensure(extraBytes: number): void {
    if (this.pos + extraBytes <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + extraBytes) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  /** Unsigned varint for values in [0, 2^53). */
  varint(value: number): void {
    this.ensure(8);
    let v = value;
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }

  byte(value: number): void {
    this.ensure(1);
    this.buf[this.pos++] = value;
  }

  bytes(data: Uint8Array): void {
    this.ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  uint32(value: number): void {
    this.ensure(4);
    this.buf[this.pos++] = value & 0xff;
    this.buf[this.pos++] = (value >>> 8) & 0xff;
    this.buf[this.pos++] = (value >>> 16) & 0xff;
    this.buf[this.pos++] = (value >>> 24) & 0xff;
  }

  float64(value: number): void {
    this.ensure(8);
    new DataView(this.buf.buffer, this.buf.byteOffset).setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  /** The bytes written so far (a copy, safe to keep). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

/** Reads what ByteWriter wrote. Bounds are checked by the callers' checksums and lengths. */
export class ByteReader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start = 0,
  ) {
    this.pos = start;
  }

  varint(): number {
    let result = 0;
    let shift = 1;
    for (;;) {
      const b = this.buf[this.pos++];
      if (b === undefined) throw new RangeError('varint past end of buffer');
      result += (b & 0x7f) * shift;
      if (b < 0x80) return result;
      shift *= 0x80;
    }
  }

  byte(): number {
    return this.buf[this.pos++];
  }

  bytes(length: number): Uint8Array {
    const out = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  uint32(): number {
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
  }

  float64(): number {
    const v = new DataView(this.buf.buffer, this.buf.byteOffset).getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }
}
