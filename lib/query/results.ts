/**
 * What a shard's query phase returns: its top hits (with fetched sources) and its total. Pure types,
 * shared by lib/search (which produces them) and lib/cluster's messages (which carry them).
 */

/** One hit from one shard. */
export interface ShardHit {
  id: string;
  score: number;
  /** Tie-break order within the shard (segment doc base + doc). */
  docKey: number;
  routing?: string;
  source?: Uint8Array;
  version?: number;
  seqNo?: number;
  primaryTerm?: number;
}

/** The shard's answer. */
export interface ShardSearchResult {
  hits: ShardHit[];
  totalHits: number;
  totalRelation: 'eq' | 'gte';
  maxScore: number | null;
}
