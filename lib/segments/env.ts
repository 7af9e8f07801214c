/**
 * Opens the one LMDB environment of a shard copy and its two databases. Every other module of
 * lib/segments reads and writes through the `ShardStorage` this returns.
 *
 * Key space of the `data` database (binary keys, compared bytewise):
 *   0x01 <segmentId u32 BE> ...   segment data (layout owned by format/keys.ts)
 *   0x02 <segmentId u32 BE> <generation u32 BE>   live-docs bitmaps (manager.ts)
 *   0x03 <generation u32 BE>      commit points (manager.ts)
 *   0x04 <name utf8>              small metadata records (manager.ts)
 * The `sources` database holds stored `_source` blocks (keys 0x01 <segmentId> <block u32 BE>),
 * with lmdb's LZ4 compression on, so large JSON sources cost less disk and I/O.
 */
import { open, type RootDatabase, type Database } from 'lmdb';

/** Key-space prefixes of the `data` database. */
export const KEY_SPACE = { segment: 0x01, liveDocs: 0x02, commit: 0x03, meta: 0x04 } as const;

/** The databases of one shard copy. */
export interface ShardStorage {
  root: RootDatabase<Buffer, Buffer>;
  /** Segment data, live docs, commit points: binary keys → binary values. */
  data: Database<Buffer, Buffer>;
  /** Stored `_source` blocks, LZ4-compressed by lmdb. */
  sources: Database<Buffer, Buffer>;
  path: string;
}

/** Options for opening the shard environment. */
export interface ShardStorageOptions {
  /** Upper bound of the memory map in bytes (LMDB grows the file up to it; default 64 GB, it is address space only). */
  mapSizeBytes?: number;
}

/** Opens (creating if needed) the LMDB environment of one shard copy at `path` (a directory). */
export function openShardStorage(path: string, options: ShardStorageOptions = {}): ShardStorage {
  const root = open<Buffer, Buffer>({
    path,
    encoding: 'binary',
    keyEncoding: 'binary',
    mapSize: options.mapSizeBytes ?? 64 * 1024 ** 3,
    maxDbs: 4,
    // Durability of acknowledged writes rests on the translog; LMDB is made durable explicitly at flush.
    noSync: false,
  }) as unknown as RootDatabase<Buffer, Buffer>;
  const data = root.openDB({ name: 'data', encoding: 'binary', keyEncoding: 'binary' }) as unknown as Database<Buffer, Buffer>;
  const sources = root.openDB({
    name: 'sources',
    encoding: 'binary',
    keyEncoding: 'binary',
    compression: { threshold: 256 },
  } as never) as unknown as Database<Buffer, Buffer>;
  return { root, data, sources, path };
}

/** Closes the environment (after every reader and write has finished). */
export async function closeShardStorage(storage: ShardStorage): Promise<void> {
  await storage.root.flushed;
  await storage.root.close();
}
