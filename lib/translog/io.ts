/**
 * The translog's file layer: the few file operations it needs, behind an interface so tests can inject
 * faults (a failed fsync, ENOSPC, a short write) without touching the translog's logic. The real
 * implementation is a thin wrapper over `fs.promises`; every call runs on libuv's thread pool, so an
 * fdatasync never blocks the event loop.
 */
import { promises as fsp, constants as fsConstants } from 'node:fs';

/** An open file of the translog (a generation file or the checkpoint file). */
export interface TranslogFile {
  /** Writes `length` bytes of `buffer` from `offset` at file `position`; resolves with the bytes written. */
  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  /** Reads up to `length` bytes into `buffer` at `offset` from file `position`; resolves with the bytes read (0 at EOF). */
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  /** fdatasync: the written data (and the size, if it changed) are durable when it resolves. */
  datasync(): Promise<void>;
  /** Cuts the file to `lengthBytes`. */
  truncate(lengthBytes: number): Promise<void>;
  /** The file's size and last modification time. */
  stat(): Promise<{ sizeBytes: number; modifiedMs: number }>;
  close(): Promise<void>;
}

/** How a file is opened: `read` existing read-only; `readWrite` existing; `create` new or truncated, read-write. */
export type TranslogOpenMode = 'read' | 'readWrite' | 'create';

/** The directory-level operations of the translog. */
export interface TranslogFileSystem {
  open(path: string, mode: TranslogOpenMode): Promise<TranslogFile>;
  unlink(path: string): Promise<void>;
  rename(fromPath: string, toPath: string): Promise<void>;
  /** Names (not paths) of the entries of `dir`. */
  list(dir: string): Promise<string[]>;
  /** Creates `dir` and its parents if missing. */
  mkdir(dir: string): Promise<void>;
  /** fsyncs the directory itself, making created, renamed and deleted entries durable. */
  syncDirectory(dir: string): Promise<void>;
  /** True when `path` exists. */
  exists(path: string): Promise<boolean>;
}

const OPEN_FLAGS: Record<TranslogOpenMode, number> = {
  read: fsConstants.O_RDONLY,
  readWrite: fsConstants.O_RDWR,
  create: fsConstants.O_RDWR | fsConstants.O_CREAT | fsConstants.O_TRUNC,
};

class NodeTranslogFile implements TranslogFile {
  constructor(private readonly handle: fsp.FileHandle) {}

  async write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    const { bytesWritten } = await this.handle.write(buffer, offset, length, position);
    return bytesWritten;
  }

  async read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    const { bytesRead } = await this.handle.read(buffer, offset, length, position);
    return bytesRead;
  }

  datasync(): Promise<void> {
    return this.handle.datasync();
  }

  truncate(lengthBytes: number): Promise<void> {
    return this.handle.truncate(lengthBytes);
  }

  async stat(): Promise<{ sizeBytes: number; modifiedMs: number }> {
    const s = await this.handle.stat();
    return { sizeBytes: s.size, modifiedMs: s.mtimeMs };
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

/** The real file layer over `fs.promises`. */
export const nodeFileSystem: TranslogFileSystem = {
  async open(path, mode) {
    return new NodeTranslogFile(await fsp.open(path, OPEN_FLAGS[mode], 0o644));
  },
  unlink: (path) => fsp.unlink(path),
  rename: (fromPath, toPath) => fsp.rename(fromPath, toPath),
  list: (dir) => fsp.readdir(dir),
  async mkdir(dir) {
    await fsp.mkdir(dir, { recursive: true });
  },
  async syncDirectory(dir) {
    const handle = await fsp.open(dir, fsConstants.O_RDONLY);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  async exists(path) {
    try {
      await fsp.access(path);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  },
};

/** Writes all of `buffer[offset, offset+length)` at `position`, looping over short writes. */
export async function writeFully(file: TranslogFile, buffer: Uint8Array, offset: number, length: number, position: number): Promise<void> {
  let done = 0;
  while (done < length) {
    const n = await file.write(buffer, offset + done, length - done, position + done);
    if (n <= 0) throw new Error(`short write: wrote ${done} of ${length} bytes at position ${position}`);
    done += n;
  }
}

/** Reads until `length` bytes are in `buffer` or EOF; resolves with the bytes read. */
export async function readFully(file: TranslogFile, buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
  let done = 0;
  while (done < length) {
    const n = await file.read(buffer, offset + done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}
