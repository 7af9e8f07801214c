/**
 * The master role: owns index metadata (names, uuids, settings, mappings) and persists it in its own
 * LMDB environment, so a restart loses no index. Data nodes learn about changes through listeners
 * (in-process today; published cluster state with the cluster issue).
 */
import { randomUUID } from 'node:crypto';
import { open, type RootDatabase } from 'lmdb';
import type { CreateIndexRequest, IndexMetadata } from '../../lib/cluster/api.js';
import { QuarryError, errors } from '../../lib/common/errors.js';
import { mergeMappings, validateMappings, type Mappings } from '../../lib/mapping/index.js';
import { flattenSettings, resolveSettings } from './settings.js';

/** What changed in the metadata, for listeners (the data node creates or removes shards). */
export type MetadataEvent = { kind: 'created'; index: IndexMetadata } | { kind: 'deleted'; index: IndexMetadata } | { kind: 'updated'; index: IndexMetadata };

/** Options of the master service. */
export interface MasterOptions {
  /** Directory of the master's state env. */
  statePath: string;
  clusterName: string;
}

/** The master's metadata service. */
export class MasterService {
  private readonly indices = new Map<string, IndexMetadata>();
  private readonly listeners: Array<(event: MetadataEvent) => Promise<void>> = [];
  /** Serialises metadata changes so concurrent creates/mapping updates never interleave. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly db: RootDatabase,
    readonly clusterName: string,
    readonly clusterUuid: string,
  ) {}

  /** Opens (or creates) the master state at `statePath` and loads every index's metadata. */
  static async open(options: MasterOptions): Promise<MasterService> {
    const db = open({ path: options.statePath, compression: false }) as RootDatabase;
    let cluster = db.get('cluster') as { uuid: string } | undefined;
    if (!cluster) {
      cluster = { uuid: randomUUID().replace(/-/g, '').slice(0, 22) };
      await db.put('cluster', cluster);
      await db.flushed;
    }
    const master = new MasterService(db, options.clusterName, cluster.uuid);
    for (const { key, value } of db.getRange({ start: 'index:', end: 'index;' })) {
      const meta = value as IndexMetadata;
      master.indices.set(String(key).slice('index:'.length), meta);
    }
    return master;
  }

  /** Registers a listener called (and awaited) for every metadata change. */
  onChange(listener: (event: MetadataEvent) => Promise<void>): void {
    this.listeners.push(listener);
  }

  getIndex(name: string): IndexMetadata | undefined {
    return this.indices.get(name);
  }

  listIndices(): IndexMetadata[] {
    return [...this.indices.values()];
  }

  /** Creates an index (or returns the existing one for an auto-create that raced another). */
  createIndex(request: CreateIndexRequest): Promise<IndexMetadata> {
    return this.serialise(async () => {
      const existing = this.indices.get(request.name);
      if (existing) {
        if (request.auto) return existing;
        throw errors.indexExists(request.name, existing.uuid);
      }
      if (request.settings !== undefined && (typeof request.settings !== 'object' || request.settings === null || Array.isArray(request.settings))) {
        throw new QuarryError('illegal_argument_exception', 'settings must be an object');
      }
      const raw = flattenSettings(request.settings);
      const settings = resolveSettings(raw);
      const mappings = validateMappings(request.mappings);
      const uuid = randomUUID().replace(/-/g, '').slice(0, 22);
      const creationDateMs = Date.now();
      settings.raw = {
        'index.number_of_shards': String(settings.numberOfShards),
        'index.number_of_replicas': String(settings.numberOfReplicas),
        ...raw,
        'index.uuid': uuid,
        'index.creation_date': String(creationDateMs),
        'index.provided_name': request.name,
        'index.version.created': '8521000',
      };
      const meta: IndexMetadata = { name: request.name, uuid, settings, mappings: mappings as IndexMetadata['mappings'], creationDateMs, version: 1 };
      await this.persist(meta);
      try {
        await this.emit({ kind: 'created', index: meta });
      } catch (err) {
        // The data node could not create the shards: roll the index back so it does not half-exist.
        await this.db.remove(`index:${meta.name}`);
        throw err;
      }
      // Visible only once its shards are started, so no request finds an index without shards.
      this.indices.set(meta.name, meta);
      return meta;
    });
  }

  /** Deletes an index and its data. */
  deleteIndex(name: string): Promise<void> {
    return this.serialise(async () => {
      const meta = this.indices.get(name);
      if (!meta) throw errors.indexNotFound(name);
      this.indices.delete(name);
      await this.db.remove(`index:${name}`);
      await this.db.flushed;
      await this.emit({ kind: 'deleted', index: meta });
    });
  }

  /** Merges new fields into an index's mapping; a type change is a 400. Durable before it resolves. */
  putMapping(name: string, update: Record<string, unknown>): Promise<IndexMetadata> {
    return this.serialise(async () => {
      const meta = this.indices.get(name);
      if (!meta) throw errors.indexNotFound(name);
      const merged = mergeMappings(meta.mappings as Mappings, validateMappings(update));
      if (JSON.stringify(merged) === JSON.stringify(meta.mappings)) return meta;
      const next: IndexMetadata = { ...meta, mappings: merged as IndexMetadata['mappings'], version: meta.version + 1 };
      await this.persist(next);
      this.indices.set(name, next);
      await this.emit({ kind: 'updated', index: next });
      return next;
    });
  }

  /** Closes the state env. */
  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
    await this.db.flushed;
    await this.db.close();
  }

  private async persist(meta: IndexMetadata): Promise<void> {
    await this.db.put(`index:${meta.name}`, meta);
    await this.db.flushed;
  }

  private async emit(event: MetadataEvent): Promise<void> {
    for (const listener of this.listeners) await listener(event);
  }

  private serialise<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
