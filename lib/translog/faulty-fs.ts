/**
 * A fault-injecting wrapper of the translog's file layer, for tests (here and in the engine's crash
 * tests): fail chosen operations (EIO on fsync, ENOSPC on write, ...) and simulate a machine crash by
 * undoing every write not yet covered by an fdatasync of its file. Directory operations (create,
 * rename, unlink) are treated as durable at once; the simulation is about file contents.
 */
import { promises as fsp } from 'node:fs';
import { nodeFileSystem, type TranslogFile, type TranslogFileSystem, type TranslogOpenMode } from './io.js';

/** The operations a fault can be injected into. */
export type FaultOperation = 'open' | 'write' | 'read' | 'datasync' | 'truncate' | 'unlink' | 'rename' | 'syncDirectory';

/** Decides, before each operation, whether it fails: return the error to throw, or undefined to proceed. */
export type FaultRule = (operation: FaultOperation, path: string) => Error | undefined;

/** An errno-style error like the ones Node's fs throws. */
export function ioError(code: 'EIO' | 'ENOSPC' | 'EROFS', operation: string, path: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${code}: injected fault, ${operation} '${path}'`);
  err.code = code;
  return err;
}

/** One write not yet made durable, with what it replaced so a crash can undo it. */
interface UnsyncedWrite {
  position: number;
  previousBytes: Uint8Array;
  previousSizeBytes: number;
}

class FaultyFile implements TranslogFile {
  constructor(
    private readonly owner: FaultInjectingFileSystem,
    readonly path: string,
    private readonly inner: TranslogFile,
  ) {}

  async write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    this.owner.check('write', this.path);
    const { sizeBytes } = await this.inner.stat();
    const previousBytes = new Uint8Array(Math.max(0, Math.min(length, sizeBytes - position)));
    if (previousBytes.length > 0) await this.inner.read(previousBytes, 0, previousBytes.length, position);
    this.owner.unsynced(this.path).push({ position, previousBytes, previousSizeBytes: sizeBytes });
    return this.inner.write(buffer, offset, length, position);
  }

  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    this.owner.check('read', this.path);
    return this.inner.read(buffer, offset, length, position);
  }

  async datasync(): Promise<void> {
    this.owner.check('datasync', this.path);
    await this.inner.datasync();
    this.owner.unsynced(this.path).length = 0;
  }

  async truncate(lengthBytes: number): Promise<void> {
    this.owner.check('truncate', this.path);
    const { sizeBytes } = await this.inner.stat();
    const start = Math.min(lengthBytes, sizeBytes);
    const previousBytes = new Uint8Array(sizeBytes - start);
    if (previousBytes.length > 0) await this.inner.read(previousBytes, 0, previousBytes.length, start);
    this.owner.unsynced(this.path).push({ position: start, previousBytes, previousSizeBytes: sizeBytes });
    await this.inner.truncate(lengthBytes);
  }

  stat(): Promise<{ sizeBytes: number; modifiedMs: number }> {
    this.owner.check('read', this.path);
    return this.inner.stat();
  }

  async close(): Promise<void> {
    this.owner.forget(this);
    await this.inner.close();
  }
}

/** Wraps a file layer (the real one by default) with injectable faults and a crash simulation. */
export class FaultInjectingFileSystem implements TranslogFileSystem {
  /** Consulted before every operation. */
  rule: FaultRule | null = null;
  /** How many times each operation was attempted. */
  readonly counts: Record<FaultOperation, number> = {
    open: 0, write: 0, read: 0, datasync: 0, truncate: 0, unlink: 0, rename: 0, syncDirectory: 0,
  };
  private crashed = false;
  private readonly unsyncedByPath = new Map<string, UnsyncedWrite[]>();
  private readonly openFiles = new Set<FaultyFile>();

  constructor(private readonly inner: TranslogFileSystem = nodeFileSystem) {}

  /** Fails the next `operation` (on a path containing `pathIncludes`, if given) with `error`, once. */
  failNext(operation: FaultOperation, error: Error, pathIncludes = ''): void {
    const previous = this.rule;
    let fired = false;
    this.rule = (op, path) => {
      if (!fired && op === operation && path.includes(pathIncludes)) {
        fired = true;
        return error;
      }
      return previous?.(op, path);
    };
  }

  /**
   * Simulates a power loss: every write not covered by a later fdatasync of its file is undone (all
   * of them, or with `keepPrefixWrites`, all but the first n per file, which models a torn tail), the
   * open files are closed, and this instance refuses every further call (the crashed process is gone).
   */
  async crash(keepPrefixWrites = 0): Promise<void> {
    this.crashed = true;
    for (const file of [...this.openFiles]) await file.close().catch(() => {});
    for (const [path, writes] of this.unsyncedByPath) {
      const handle = await fsp.open(path, 'r+').catch(() => null);
      if (!handle) continue; // deleted since
      try {
        for (let i = writes.length - 1; i >= keepPrefixWrites; i--) {
          const w = writes[i];
          if (w.previousBytes.length > 0) await handle.write(w.previousBytes, 0, w.previousBytes.length, w.position);
          await handle.truncate(w.previousSizeBytes);
        }
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
    this.unsyncedByPath.clear();
  }

  /** @internal Throws the injected fault for this operation, if any. */
  check(operation: FaultOperation, path: string): void {
    if (this.crashed) throw ioError('EIO', `${operation} after simulated crash`, path);
    this.counts[operation]++;
    const err = this.rule?.(operation, path);
    if (err) throw err;
  }

  /** @internal The unsynced writes of `path`. */
  unsynced(path: string): UnsyncedWrite[] {
    let list = this.unsyncedByPath.get(path);
    if (!list) {
      list = [];
      this.unsyncedByPath.set(path, list);
    }
    return list;
  }

  /** @internal */
  forget(file: FaultyFile): void {
    this.openFiles.delete(file);
  }

  async open(path: string, mode: TranslogOpenMode): Promise<TranslogFile> {
    this.check('open', path);
    if (mode === 'create') this.unsyncedByPath.delete(path); // a new file: its old contents are gone for good
    const file = new FaultyFile(this, path, await this.inner.open(path, mode));
    this.openFiles.add(file);
    return file;
  }

  async unlink(path: string): Promise<void> {
    this.check('unlink', path);
    this.unsyncedByPath.delete(path);
    await this.inner.unlink(path);
  }

  async rename(fromPath: string, toPath: string): Promise<void> {
    this.check('rename', fromPath);
    await this.inner.rename(fromPath, toPath);
    const writes = this.unsyncedByPath.get(fromPath);
    this.unsyncedByPath.delete(fromPath);
    if (writes) this.unsyncedByPath.set(toPath, writes);
  }

  list(dir: string): Promise<string[]> {
    this.check('read', dir);
    return this.inner.list(dir);
  }

  mkdir(dir: string): Promise<void> {
    this.check('open', dir);
    return this.inner.mkdir(dir);
  }

  syncDirectory(dir: string): Promise<void> {
    this.check('syncDirectory', dir);
    return this.inner.syncDirectory(dir);
  }

  exists(path: string): Promise<boolean> {
    this.check('read', path);
    return this.inner.exists(path);
  }
}
