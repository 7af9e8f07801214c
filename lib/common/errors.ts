/**
 * The error catalog: every error Quarry answers to the outside world, with Elasticsearch's `type`
 * and HTTP status. Code throws `QuarryError`s; the REST layer turns them into
 * `{"error":{"root_cause":[...],"type","reason",...},"status":N}`.
 */

/** Elasticsearch error types we produce, with their HTTP status. */
export const ERROR_STATUS = {
  parse_exception: 400,
  x_content_parse_exception: 400,
  json_parse_exception: 400,
  illegal_argument_exception: 400,
  number_format_exception: 400,
  action_request_validation_exception: 400,
  invalid_index_name_exception: 400,
  mapper_parsing_exception: 400,
  document_parsing_exception: 400,
  strict_dynamic_mapping_exception: 400,
  parsing_exception: 400,
  query_shard_exception: 400,
  query_validation_exception: 400,
  search_phase_execution_exception: 400,
  resource_already_exists_exception: 400,
  index_not_found_exception: 404,
  document_missing_exception: 404,
  resource_not_found_exception: 404,
  version_conflict_engine_exception: 409,
  content_too_long_exception: 413,
  media_type_header_exception: 406,
  method_not_allowed: 405,
  illegal_state_exception: 500,
  translog_corrupted_exception: 500,
  corrupt_index_exception: 500,
  engine_closed_exception: 503,
  node_shutdown_exception: 503,
  shard_not_available_exception: 503,
  unavailable_shards_exception: 503,
  no_shard_available_action_exception: 503,
  master_not_discovered_exception: 503,
  process_cluster_event_timeout_exception: 503,
  timeout_exception: 504,
  exception: 500,
} as const;

/** One of the catalogued Elasticsearch error types. */
export type ErrorType = keyof typeof ERROR_STATUS;

/** An error meant for the client: an Elasticsearch type, a reason, a status and extra fields. */
export class QuarryError extends Error {
  readonly type: ErrorType;
  readonly status: number;
  /** Extra fields copied into the error object (`index`, `shard`, `index_uuid`, ...). */
  readonly extra: Record<string, unknown>;
  /** Errors that caused this one, rendered as `caused_by`. */
  readonly causedBy?: QuarryError;

  constructor(type: ErrorType, reason: string, extra: Record<string, unknown> = {}, causedBy?: QuarryError, status?: number) {
    super(reason);
    this.name = 'QuarryError';
    this.type = type;
    this.status = status ?? ERROR_STATUS[type];
    this.extra = extra;
    this.causedBy = causedBy;
  }

  /** The inner error object of Elasticsearch's error JSON (without root_cause). */
  toBody(): Record<string, unknown> {
    const body: Record<string, unknown> = { type: this.type, reason: this.message, ...this.extra };
    if (this.causedBy) body.caused_by = this.causedBy.toBody();
    return body;
  }

  /** The whole response JSON: `{"error":{root_cause,type,reason,...},"status":N}`. */
  toResponse(): { error: Record<string, unknown>; status: number } {
    const inner = this.toBody();
    // Elasticsearch lists root causes without their own caused_by (also one carried in `extra`).
    const root = this.rootCause().toBody();
    delete root.caused_by;
    return { error: { root_cause: [root], ...inner }, status: this.status };
  }

  private rootCause(): QuarryError {
    let e: QuarryError = this;
    while (e.causedBy) e = e.causedBy;
    // Elasticsearch lists the outermost error as root cause when it carries the index fields.
    return e === this ? this : e;
  }
}

/** Shorthand constructors for the errors most code paths raise. */
export const errors = {
  illegalArgument: (reason: string) => new QuarryError('illegal_argument_exception', reason),
  parse: (reason: string) => new QuarryError('parse_exception', reason),
  indexNotFound: (index: string) =>
    new QuarryError('index_not_found_exception', `no such index [${index}]`, {
      'resource.type': 'index_or_alias',
      'resource.id': index,
      index_uuid: '_na_',
      index,
    }),
  invalidIndexName: (index: string, why: string) =>
    new QuarryError('invalid_index_name_exception', `Invalid index name [${index}], ${why}`, {
      index_uuid: '_na_',
      index,
    }),
  indexExists: (index: string, uuid: string) =>
    new QuarryError('resource_already_exists_exception', `index [${index}/${uuid}] already exists`, {
      index_uuid: uuid,
      index,
    }),
  versionConflict: (index: string, shard: number, id: string, reason: string, indexUuid: string) =>
    new QuarryError('version_conflict_engine_exception', `[${id}]: version conflict, ${reason}`, {
      index_uuid: indexUuid,
      shard: String(shard),
      index,
    }),
  documentMissing: (index: string, shard: number, id: string, indexUuid: string) =>
    new QuarryError('document_missing_exception', `[${id}]: document missing`, {
      index_uuid: indexUuid,
      shard: String(shard),
      index,
    }),
  engineClosed: (index: string, shard: number) =>
    new QuarryError('engine_closed_exception', `CurrentState[CLOSED] engine is closed for [${index}][${shard}]`),
};

/** Wraps any thrown value as a QuarryError (unknown errors become a 500 `exception`). */
export function toQuarryError(err: unknown): QuarryError {
  if (err instanceof QuarryError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new QuarryError('exception', message);
}
