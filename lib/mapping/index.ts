/**
 * Mappings: how a JSON document's fields are indexed. Parses a document against an index's mapping
 * into the analysed `DocumentInput` the segments store, adding fields by Elasticsearch's dynamic
 * mapping rules (strings → `text` + `.keyword` (ignore_above 256), integers → `long`, other numbers →
 * `float`, booleans → `boolean`, date-like strings → `date`, objects → `object`).
 *
 * Field types today: text, keyword, long, integer, short, byte, double, float, half_float,
 * scaled_float (as double), date, boolean, object. Numbers, dates and booleans are indexed as exact
 * terms (their canonical string) for term queries and as numeric doc values for sorting.
 */
import { analyze, isKnownAnalyzer } from '../analysis/index.js';
import { QuarryError, errors } from '../common/errors.js';
import { TERM_MAX_BYTES } from '../common/limits.js';
import { TokenRun } from '../common/token-run.js';
import type { DocValuesInput, DocumentInput, InvertedFieldInput } from '../segments/types.js';

/** One field's mapping as Elasticsearch shows it. */
export interface FieldMapping {
  type?: string;
  analyzer?: string;
  search_analyzer?: string;
  index?: boolean;
  doc_values?: boolean;
  ignore_above?: number;
  format?: string;
  properties?: Record<string, FieldMapping>;
  fields?: Record<string, FieldMapping>;
  dynamic?: boolean | 'strict' | 'true' | 'false';
  [key: string]: unknown;
}

/** The mapping of an index: `{ dynamic?, properties }`. */
export interface Mappings {
  dynamic?: boolean | 'strict' | 'true' | 'false';
  properties: Record<string, FieldMapping>;
}

const NUMERIC_TYPES = new Set(['long', 'integer', 'short', 'byte', 'double', 'float', 'half_float', 'scaled_float', 'unsigned_long']);
const INTEGER_RANGES: Record<string, [number, number]> = {
  long: [-9223372036854775808, 9223372036854775807],
  integer: [-2147483648, 2147483647],
  short: [-32768, 32767],
  byte: [-128, 127],
  unsigned_long: [0, 18446744073709551615],
};
/** Field types we can index. */
export const SUPPORTED_FIELD_TYPES = new Set([...NUMERIC_TYPES, 'text', 'keyword', 'date', 'boolean', 'object', 'match_only_text']);

/** Elasticsearch's default `ignore_above` of the dynamic `.keyword` sub-field. */
export const DYNAMIC_KEYWORD_IGNORE_ABOVE = 256;

/** Result of parsing one document: the analysed input, and mapping additions that dynamic mapping made. */
export interface ParsedDocument {
  /** The analysed document; its inverted fields are slices of one token run (see parseDocument). */
  doc: DocumentInput;
  /** Fields to add to the mapping (ES's "dynamic mapping update"), or null when none. */
  mappingUpdate: Mappings | null;
}

/** Validates a mapping given by a user (PUT index / PUT _mapping) and returns it normalised. */
export function validateMappings(input: unknown): Mappings {
  if (input === undefined || input === null) return { properties: {} };
  if (typeof input !== 'object' || Array.isArray(input)) throw new QuarryError('mapper_parsing_exception', 'Failed to parse mapping: mappings must be an object');
  const raw = input as Record<string, unknown>;
  // Elasticsearch 7+ accepts `{ "_doc": { properties } }` in some clients; unwrap a single type name.
  const body = raw.properties === undefined && raw._doc && typeof raw._doc === 'object' ? (raw._doc as Record<string, unknown>) : raw;
  const out: Mappings = { properties: {} };
  for (const [key, value] of Object.entries(body)) {
    if (key === 'properties') out.properties = validateProperties(value, '');
    else if (key === 'dynamic') out.dynamic = parseDynamic(value, key);
    else if (key === '_source' || key === '_routing' || key === '_meta' || key === 'dynamic_templates' || key === 'date_detection' || key === 'numeric_detection') {
      (out as unknown as Record<string, unknown>)[key] = value;
    } else {
      throw new QuarryError('mapper_parsing_exception', `Root mapping definition has unsupported parameters:  [${key} : ${JSON.stringify(value)}]`);
    }
  }
  return out;
}

function parseDynamic(value: unknown, path: string): boolean | 'strict' {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  if (value === 'strict') return 'strict';
  throw new QuarryError('mapper_parsing_exception', `Could not convert [${path}.dynamic] to boolean`);
}

function validateProperties(value: unknown, prefix: string): Record<string, FieldMapping> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new QuarryError('mapper_parsing_exception', `Expected map for property [properties] on field [${prefix || '_doc'}]`);
  const out: Record<string, FieldMapping> = {};
  for (const [name, def] of Object.entries(value as Record<string, unknown>)) {
    const path = prefix ? `${prefix}.${name}` : name;
    if (name === '' || name.trim() === '') throw new QuarryError('mapper_parsing_exception', 'field name cannot be an empty string');
    if (!def || typeof def !== 'object' || Array.isArray(def)) throw new QuarryError('mapper_parsing_exception', `Expected map for property [fields] on field [${path}] but got a class ${typeof def}`);
    out[name] = validateField(def as Record<string, unknown>, path);
  }
  return out;
}

function validateField(def: Record<string, unknown>, path: string): FieldMapping {
  const type = (def.type as string | undefined) ?? (def.properties ? 'object' : undefined);
  if (type === undefined) throw new QuarryError('mapper_parsing_exception', `No type specified for field [${path}]`);
  if (!SUPPORTED_FIELD_TYPES.has(type)) throw new QuarryError('mapper_parsing_exception', `No handler for type [${type}] declared on field [${path}]`);
  const field: FieldMapping = { ...(def as FieldMapping), type };
  if (type === 'object') {
    field.properties = def.properties ? validateProperties(def.properties, path) : {};
    if (def.dynamic !== undefined) field.dynamic = parseDynamic(def.dynamic, path);
    delete field.type; // Elasticsearch omits `type: object` when properties are present.
    if (!def.properties) field.type = 'object';
  }
  for (const key of ['analyzer', 'search_analyzer'] as const) {
    if (field[key] !== undefined && !isKnownAnalyzer(String(field[key]))) throw new QuarryError('mapper_parsing_exception', `analyzer [${field[key]}] has not been configured in mappings`);
  }
  if (field.fields) {
    const subs: Record<string, FieldMapping> = {};
    for (const [name, sub] of Object.entries(field.fields)) subs[name] = validateField(sub as Record<string, unknown>, `${path}.${name}`);
    field.fields = subs;
  }
  return field;
}

/** The type of a mapped field (objects without `type` are 'object'). */
function typeOf(field: FieldMapping): string {
  return field.type ?? 'object';
}

/**
 * Merges `update` into `base` (returns a new mapping). Adding fields is allowed; changing a
 * field's type is a 400 `illegal_argument_exception`, as Elasticsearch answers.
 */
export function mergeMappings(base: Mappings, update: Mappings): Mappings {
  const merged: Mappings = { ...base, properties: mergeProperties(base.properties, update.properties, '') };
  if (update.dynamic !== undefined) merged.dynamic = update.dynamic;
  return merged;
}

function mergeProperties(base: Record<string, FieldMapping>, update: Record<string, FieldMapping>, prefix: string): Record<string, FieldMapping> {
  const out: Record<string, FieldMapping> = { ...base };
  for (const [name, field] of Object.entries(update)) {
    const path = prefix ? `${prefix}.${name}` : name;
    const existing = Object.hasOwn(base, name) ? base[name] : undefined;
    if (!existing) {
      out[name] = field;
      continue;
    }
    if (typeOf(existing) !== typeOf(field)) {
      throw errors.illegalArgument(`mapper [${path}] cannot be changed from type [${typeOf(existing)}] to [${typeOf(field)}]`);
    }
    const next: FieldMapping = { ...existing };
    if (existing.properties || field.properties) next.properties = mergeProperties(existing.properties ?? {}, field.properties ?? {}, path);
    if (existing.fields || field.fields) next.fields = mergeProperties(existing.fields ?? {}, field.fields ?? {}, path);
    out[name] = next;
  }
  return out;
}

const DATE_DETECT_RE = /^\d{4}[-/]\d{2}[-/]\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** Parses a date value (strict_date_optional_time or epoch_millis) to epoch ms, or NaN. */
export function parseDate(value: unknown): number {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : NaN;
  if (typeof value !== 'string') return NaN;
  if (/^-?\d+$/.test(value) && value.length > 4) return Number(value);
  if (!/^\d{4}(?:-\d{2}(?:-\d{2}(?:[T ]\d{2}(?::\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?)?)?$/.test(value)) return NaN;
  let iso = value.replace(' ', 'T').replace(',', '.');
  if (/^\d{4}$/.test(iso)) iso += '-01-01';
  else if (/^\d{4}-\d{2}$/.test(iso)) iso += '-01';
  // Elasticsearch reads a date without zone as UTC; JavaScript reads date-times without zone as local.
  if (iso.includes('T') && !/(Z|[+-]\d{2}:?\d{2})$/.test(iso)) iso += 'Z';
  const ms = Date.parse(iso);
  return ms;
}

/**
 * The tokens of one inverted field while a document is parsed: tokens [from, to) of the document's
 * run, plus further ranges when other fields' tokens came in between (values of an array of objects).
 */
interface FieldTokens {
  field: string;
  indexOptions: InvertedFieldInput['indexOptions'];
  norms: boolean;
  from: number;
  to: number;
  /** Tokens so far (over all ranges). */
  tokens: number;
  nextPosition: number;
  /** [from, to) pairs after the first range, or null (the usual case: one contiguous range). */
  moreRanges: number[] | null;
}

/** Mutable state while parsing one document. */
interface ParseContext {
  id: string;
  run: TokenRun;
  fields: Map<string, FieldTokens>;
  docValues: Map<string, DocValuesInput>;
  update: Record<string, FieldMapping> | null;
  dynamicRoot: boolean | 'strict';
}

/**
 * Parses `source` (a JSON object) against `mappings` into analysed fields and doc values.
 * Throws `document_parsing_exception` (400) naming the field when a value does not fit its type.
 *
 * The tokens of all inverted fields go into one TokenRun: `tokens` when given (reset here, so the
 * previous document parsed into it must have been consumed — SegmentBuilder.addDocument copies what it
 * keeps — before this call), else a fresh run owned by the result.
 */
export function parseDocument(
  mappings: Mappings,
  meta: { id: string; seqNo: number; version: number; primaryTerm: number; routing?: string },
  source: Record<string, unknown>,
  sourceBytes: Uint8Array,
  tokens?: TokenRun,
): ParsedDocument {
  let run = tokens;
  if (run === undefined) run = new TokenRun(Math.min(sourceBytes.length + 16, 1 << 20), Math.min((sourceBytes.length >>> 2) + 16, 1 << 18));
  else run.reset();
  const ctx: ParseContext = {
    id: meta.id,
    run,
    fields: new Map(),
    docValues: new Map(),
    update: null,
    dynamicRoot: normaliseDynamic(mappings.dynamic),
  };
  parseObject(ctx, source, mappings.properties, '', ctx.dynamicRoot, []);
  const inverted: InvertedFieldInput[] = [];
  for (const f of ctx.fields.values()) {
    if (f.moreRanges !== null) regroup(run, f);
    inverted.push({ field: f.field, indexOptions: f.indexOptions, norms: f.norms, tokens: run.slice(f.from, f.to), length: f.tokens });
  }
  return {
    // Explicit properties, not `...meta`: object spread was the costliest line of a parse (profile).
    doc: {
      id: meta.id,
      seqNo: meta.seqNo,
      version: meta.version,
      primaryTerm: meta.primaryTerm,
      routing: meta.routing,
      source: sourceBytes,
      inverted,
      docValues: [...ctx.docValues.values()],
    },
    mappingUpdate: ctx.update ? { properties: ctx.update } : null,
  };
}

/** Copies a field's scattered token ranges to the end of the run so they form one slice. */
function regroup(run: TokenRun, f: FieldTokens): void {
  const from = run.count;
  for (let i = f.from; i < f.to; i++) run.pushCopyOf(i);
  const more = f.moreRanges!;
  for (let r = 0; r < more.length; r += 2) for (let i = more[r]; i < more[r + 1]; i++) run.pushCopyOf(i);
  f.from = from;
  f.to = run.count;
  f.moreRanges = null;
}

/** Records that the tokens [before, run.count) just appended belong to `f`. */
function appended(ctx: ParseContext, f: FieldTokens, before: number): void {
  const after = ctx.run.count;
  if (after === before) return;
  if (f.tokens === 0) {
    f.from = before;
    f.to = after;
  } else if (f.moreRanges === null && f.to === before) {
    f.to = after;
  } else {
    const more = (f.moreRanges ??= []);
    if (more.length > 0 && more[more.length - 1] === before) more[more.length - 1] = after;
    else more.push(before, after);
  }
  f.tokens += after - before;
}

/** Appends one exact term (keyword, number, date, boolean) to a field. */
function addTerm(ctx: ParseContext, f: FieldTokens, term: string): void {
  const before = ctx.run.count;
  ctx.run.pushString(term, f.nextPosition++);
  appended(ctx, f, before);
}

function normaliseDynamic(value: FieldMapping['dynamic']): boolean | 'strict' {
  if (value === undefined || value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  return 'strict';
}

/** Records a dynamic addition at `updatePath` (the chain of object names from the root). */
function addDynamic(ctx: ParseContext, updatePath: string[], name: string, field: FieldMapping): void {
  ctx.update ??= {};
  let props = ctx.update;
  for (const part of updatePath) {
    if (!Object.hasOwn(props, part)) props[part] = { properties: {} } as FieldMapping;
    props = props[part].properties ??= {};
  }
  props[name] = field;
}

function parseObject(
  ctx: ParseContext,
  obj: Record<string, unknown>,
  properties: Record<string, FieldMapping>,
  prefix: string,
  dynamic: boolean | 'strict',
  updatePath: string[],
): void {
  for (const key in obj) {
    if (!Object.prototype.hasOwnProperty.call(obj, key)) continue;
    const value = obj[key];
    const path = prefix ? `${prefix}.${key}` : key;
    if (key === '') throw new QuarryError('document_parsing_exception', `[1:2] field name cannot be an empty string`);
    // The REST layer refuses these already; a document reaching us another way (replay) must not either.
    if (key === '__proto__') throw new QuarryError('document_parsing_exception', `[1:2] field name [__proto__] is not allowed`);
    if (prefix === '' && (key === '_id' || key === '_index' || key === '_source' || key === '_seq_no' || key === '_version' || key === '_routing')) {
      throw new QuarryError('document_parsing_exception', `[1:2] Field [${key}] is a metadata field and cannot be added inside a document. Use the index API request parameters.`);
    }
    parseValue(ctx, key, value, properties, path, dynamic, updatePath);
  }
}

function parseValue(
  ctx: ParseContext,
  key: string,
  value: unknown,
  properties: Record<string, FieldMapping>,
  path: string,
  dynamic: boolean | 'strict',
  updatePath: string[],
): void {
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) {
    for (const v of value) parseValue(ctx, key, v, properties, path, dynamic, updatePath);
    return;
  }
  // Own properties only: a field named `constructor` or `toString` must not find Object.prototype's.
  let field = Object.hasOwn(properties, key) ? properties[key] : undefined;
  if (!field) {
    // A field added by an earlier value of this same document (arrays, repeated objects).
    field = lookupUpdate(ctx, updatePath, key) as FieldMapping;
  }
  if (!field) {
    if (dynamic === 'strict') {
      throw new QuarryError('strict_dynamic_mapping_exception', `[1:2] mapping set to strict, dynamic introduction of [${key}] within [${updatePath.join('.') || '_doc'}] is not allowed`);
    }
    if (dynamic === false) return;
    field = dynamicFieldFor(value);
    if (field.type === 'object') field = { properties: {} };
    addDynamic(ctx, updatePath, key, field);
  }
  const type = typeOf(field);
  if (type === 'object') {
    if (typeof value !== 'object') {
      throw docParsing(ctx, path, `object mapping for [${path}] tried to parse field [${key}] as object, but found a concrete value`);
    }
    parseObject(ctx, value as Record<string, unknown>, field.properties ?? {}, path, field.dynamic !== undefined ? normaliseDynamic(field.dynamic) : dynamic, [...updatePath, key]);
    return;
  }
  if (typeof value === 'object') {
    throw docParsing(ctx, path, `failed to parse field [${path}] of type [${type}] in document with id '${ctx.id}'. Preview of field's value: '${preview(value)}'`);
  }
  indexLeaf(ctx, path, field, value as string | number | boolean);
  if (field.fields) {
    for (const [subName, sub] of Object.entries(field.fields)) indexLeaf(ctx, `${path}.${subName}`, sub, value as string | number | boolean);
  }
}

function lookupUpdate(ctx: ParseContext, updatePath: string[], key: string): FieldMapping | undefined {
  let props = ctx.update;
  for (const part of updatePath) {
    if (!props || !Object.hasOwn(props, part)) return undefined;
    props = props[part].properties ?? null;
  }
  return props && Object.hasOwn(props, key) ? props[key] : undefined;
}

/** The mapping dynamic mapping gives a new field, from its first value. */
function dynamicFieldFor(value: unknown): FieldMapping {
  switch (typeof value) {
    case 'string':
      if (DATE_DETECT_RE.test(value) && !Number.isNaN(parseDate(value))) return { type: 'date' };
      return { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: DYNAMIC_KEYWORD_IGNORE_ABOVE } } };
    case 'number':
      return Number.isInteger(value) ? { type: 'long' } : { type: 'float' };
    case 'boolean':
      return { type: 'boolean' };
    default:
      return { type: 'object' };
  }
}

function preview(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 20 ? text.slice(0, 20) + '...' : text;
}

function docParsing(ctx: ParseContext, path: string, reason: string): QuarryError {
  return new QuarryError('document_parsing_exception', `[1:2] ${reason}`, {}, undefined);
}

function fieldState(ctx: ParseContext, path: string, indexOptions: InvertedFieldInput['indexOptions'], norms: boolean): FieldTokens {
  let f = ctx.fields.get(path);
  if (!f) {
    f = { field: path, indexOptions, norms, from: 0, to: 0, tokens: 0, nextPosition: 0, moreRanges: null };
    ctx.fields.set(path, f);
  }
  return f;
}

function addDocValue(ctx: ParseContext, path: string, type: DocValuesInput['type'], value: string | number): void {
  let dv = ctx.docValues.get(path);
  if (!dv) {
    dv = { field: path, type, values: [] };
    ctx.docValues.set(path, dv);
  }
  dv.values.push(value);
}

/** Elasticsearch's position_increment_gap between values of a multi-valued text field. */
const POSITION_INCREMENT_GAP = 100;
const encoder = new TextEncoder();

function indexLeaf(ctx: ParseContext, path: string, field: FieldMapping, value: string | number | boolean): void {
  const type = typeOf(field);
  const indexed = field.index !== false;
  const docValues = field.doc_values !== false;
  switch (type) {
    case 'text':
    case 'match_only_text': {
      if (!indexed) return;
      const f = fieldState(ctx, path, 'positions', true);
      if (f.tokens > 0) f.nextPosition += POSITION_INCREMENT_GAP;
      const before = ctx.run.count;
      f.nextPosition = analyze(field.analyzer ?? 'standard', String(value), ctx.run, f.nextPosition);
      appended(ctx, f, before);
      return;
    }
    case 'keyword': {
      const text = String(value);
      if (field.ignore_above !== undefined && text.length > field.ignore_above) return;
      // A UTF-16 unit is at most 3 UTF-8 bytes: short values cannot be immense (skips an encode per value).
      if (text.length * 3 > TERM_MAX_BYTES && encoder.encode(text).length > TERM_MAX_BYTES) {
        throw docParsing(ctx, path, `Document contains at least one immense term in field="${path}" (whose UTF8 encoding is longer than the max length ${TERM_MAX_BYTES}), all of which were skipped.`);
      }
      if (indexed) {
        const f = fieldState(ctx, path, 'docs', false);
        addTerm(ctx, f, text);
      }
      if (docValues) addDocValue(ctx, path, 'keyword', text);
      return;
    }
    case 'boolean': {
      let b: boolean;
      if (value === true || value === 'true') b = true;
      else if (value === false || value === 'false' || value === '') b = false;
      else throw docParsing(ctx, path, `failed to parse field [${path}] of type [boolean] in document with id '${ctx.id}'. Preview of field's value: '${preview(value)}'`);
      if (indexed) {
        const f = fieldState(ctx, path, 'docs', false);
        addTerm(ctx, f, b ? 'true' : 'false');
      }
      if (docValues) addDocValue(ctx, path, 'numeric', b ? 1 : 0);
      return;
    }
    case 'date': {
      const ms = parseDate(value);
      if (Number.isNaN(ms)) {
        throw docParsing(ctx, path, `failed to parse field [${path}] of type [date] in document with id '${ctx.id}'. Preview of field's value: '${preview(value)}'`);
      }
      if (indexed) {
        const f = fieldState(ctx, path, 'docs', false);
        addTerm(ctx, f, String(ms));
      }
      if (docValues) addDocValue(ctx, path, 'numeric', ms);
      return;
    }
    default: {
      if (!NUMERIC_TYPES.has(type)) return;
      const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
      const range = INTEGER_RANGES[type];
      if (!Number.isFinite(n) || (range && (n < range[0] || n > range[1]))) {
        throw docParsing(ctx, path, `failed to parse field [${path}] of type [${type}] in document with id '${ctx.id}'. Preview of field's value: '${preview(value)}'`);
      }
      // Integer types drop the fraction, as Elasticsearch does when coercing.
      const stored = range ? Math.trunc(n) : type === 'float' ? Math.fround(n) : n;
      if (indexed) {
        const f = fieldState(ctx, path, 'docs', false);
        addTerm(ctx, f, numericTerm(stored));
      }
      if (docValues) addDocValue(ctx, path, 'numeric', stored);
    }
  }
}

/** The indexed term of a number (shared by indexing and term queries so they agree). */
export function numericTerm(value: number): string {
  return Object.is(value, -0) ? '0' : String(value);
}

/** Resolves a dotted field path (`a.b.c`, including multi-fields) to its mapping, or undefined. */
export function resolveField(mappings: Mappings, path: string): FieldMapping | undefined {
  const parts = path.split('.');
  let props: Record<string, FieldMapping> | undefined = mappings.properties;
  let field: FieldMapping | undefined;
  for (let i = 0; i < parts.length; i++) {
    if (!props || !Object.hasOwn(props, parts[i])) return undefined;
    field = props[parts[i]];
    if (!field) return undefined;
    props = field.properties ?? field.fields;
  }
  return field;
}
