/**
 * The two query-text syntaxes, parsed into AST nodes (pure, no analysis):
 *
 * - `parseQueryString`: Lucene's classic QueryParser as Elasticsearch's query_string (and `?q=`) uses
 *   it: `field:`, `field:(...)`, `AND`/`OR`/`NOT`/`&&`/`||`/`!`, `+`/`-`, `( )`, `"phrase"~slop`,
 *   `fuzzy~1`, `wild*card?`, `/regexp/`, `[a TO b]`/`{a TO b}` (`*` open ends), `>=5`/`<5`, `^boost`,
 *   `\` escapes, `_exists_:field`. Syntax errors are Elasticsearch's 400 `query_shard_exception`
 *   "Failed to parse query [...]" with the Lucene `parse_exception` as `caused_by`.
 *
 *   Boolean operators follow the classic parser exactly, which has NO precedence: clauses are read
 *   left to right, `AND` makes the clause before it and the one after it required, `OR` (with the AND
 *   default operator) makes the clause before it optional, `NOT`/`-` prohibit, `+` requires. So
 *   `a OR b AND c` is `a +b +c` (a optional, b and c required), not `a OR (b AND c)`. We implement the
 *   classic behaviour because that is what Elasticsearch answers; use parentheses for grouping.
 *
 *   One deliberate difference: consecutive bare terms (`foo bar`) become one clause per term, as
 *   Lucene does with split-on-whitespace; Elasticsearch analyses the run as one text. Matches are the
 *   same except for multi-word synonyms.
 *
 * - `parseSimpleQueryString`: Lucene's SimpleQueryParser for simple_query_string: `+` AND, `|` OR,
 *   `-` NOT, `"phrase"~N`, `prefix*`, `term~N`, `( )`, `\` escapes, each enabled by `flags`. It never
 *   fails: characters that do not form an operator are text, as in Elasticsearch. Operators have no
 *   precedence either: they apply left to right, a change of operator wrapping what came before.
 *
 * Unfielded clauses go to the query's fields as given (`*`, `title*`, `title^2`: expanded on the
 * shard); several fields make a dis_max (tie_breaker as the query says; 1.0 for simple_query_string,
 * as Elasticsearch).
 */
import { QuarryError } from '../common/errors.js';
import type { FieldWeight, Operator, QueryNode } from './ast.js';
import { FUZZINESS_MAX_EDITS, MAX_EXPANSIONS_DEFAULT, QUERY_STRING_MAX_LENGTH } from './limits.js';

/** What query_string's options contribute to the parsed nodes. */
export interface QueryStringOptions {
  /** Where unfielded clauses go (default field or `fields`); never empty. */
  fields: FieldWeight[];
  defaultOperator: Operator;
  tieBreaker: number;
  phraseSlop: number;
  fuzziness: string;
  fuzzyPrefixLength: number;
  fuzzyMaxExpansions: number;
  fuzzyTranspositions: boolean;
  allowLeadingWildcard: boolean;
  maxDeterminizedStates: number;
  analyzer?: string;
  quoteAnalyzer?: string;
  timeZone?: string;
}

/** What simple_query_string's options contribute to the parsed nodes. */
export interface SimpleQueryStringOptions {
  fields: FieldWeight[];
  defaultOperator: Operator;
  /** Operator flags bitmask (`parseSimpleQueryStringFlags`); -1 = all. */
  flagsMask: number;
  fuzzyPrefixLength: number;
  fuzzyMaxExpansions: number;
  fuzzyTranspositions: boolean;
  analyzer?: string;
}

// ---- shared node builders ------------------------------------------------------------------------

type Occur = 'must' | 'should' | 'mustNot';

interface Clause {
  occur: Occur;
  query: QueryNode;
}

function boolOf(clauses: Clause[]): QueryNode {
  const node: QueryNode = { kind: 'bool', must: [], filter: [], should: [], mustNot: [], boost: 1 };
  for (const c of clauses) node[c.occur].push(c.query);
  return node;
}

/** One node per field; several fields become a dis_max (each clause carrying its field boost). */
function perField(field: string | null, fields: FieldWeight[], tieBreaker: number, make: (field: string) => QueryNode): QueryNode {
  if (field !== null) return make(field);
  if (fields.length === 1) {
    const node = make(fields[0].field);
    node.boost *= fields[0].boost;
    return node;
  }
  const queries = fields.map((f) => {
    const node = make(f.field);
    node.boost *= f.boost;
    return node;
  });
  return { kind: 'dis_max', queries, tieBreaker, boost: 1 };
}

function matchNode(field: string, text: string, operator: Operator, analyzer: string | undefined): QueryNode {
  const node: QueryNode = {
    kind: 'match',
    field,
    query: text,
    operator,
    prefixLength: 0,
    maxExpansions: MAX_EXPANSIONS_DEFAULT,
    fuzzyTranspositions: true,
    zeroTermsQuery: 'none',
    lenient: false,
    autoGenerateSynonymsPhraseQuery: true,
    boost: 1,
  };
  if (analyzer !== undefined) node.analyzer = analyzer;
  return node;
}

function phraseNode(field: string, text: string, slop: number, analyzer: string | undefined): QueryNode {
  const node: QueryNode = { kind: 'match_phrase', field, query: text, slop, zeroTermsQuery: 'none', boost: 1 };
  if (analyzer !== undefined) node.analyzer = analyzer;
  return node;
}

// ---- Lucene classic syntax -----------------------------------------------------------------------

type TokenKind =
  | 'AND' | 'OR' | 'NOT' | 'PLUS' | 'MINUS' | 'BAREOPER' | 'LPAREN' | 'RPAREN' | 'COLON' | 'STAR' | 'CARAT'
  | 'QUOTED' | 'TERM' | 'FUZZY_SLOP' | 'PREFIXTERM' | 'WILDTERM' | 'REGEXPTERM' | 'RANGEIN_START' | 'RANGEEX_START'
  | 'NUMBER' | 'RANGE_TO' | 'RANGEIN_END' | 'RANGEEX_END' | 'RANGE_QUOTED' | 'RANGE_GOOP' | 'EOF';

interface Token {
  kind: TokenKind;
  image: string;
  offset: number;
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r', '\u3000']);
const NOT_TERM_START = new Set([' ', '\t', '\n', '\r', '\u3000', '+', '-', '!', '(', ')', ':', '^', '[', ']', '"', '{', '}', '~', '*', '?', '\\', '/']);

/** A Lucene ParseException: becomes Elasticsearch's query_shard_exception at the top. */
class SyntaxError extends Error {}

/** JavaCC-style lexer with Lucene's three states (default, boost, range) and longest-match rules. */
class Lexer {
  private i = 0;
  private state: 'default' | 'boost' | 'range' = 'default';
  constructor(private readonly s: string) {}

  next(): Token {
    const s = this.s;
    while (this.i < s.length && WHITESPACE.has(s[this.i])) this.i++;
    const start = this.i;
    if (start >= s.length) return { kind: 'EOF', image: '<EOF>', offset: s.length };
    if (this.state === 'boost') {
      const m = /^\d+(\.\d+)?/.exec(s.slice(start, start + 64));
      if (!m) throw new SyntaxError(`Lexical error at line ${lineOf(s, start)}, column ${columnOf(s, start)}.  Encountered: "${s[start]}" after : ""`);
      this.state = 'default';
      return this.take('NUMBER', m[0].length);
    }
    if (this.state === 'range') return this.rangeToken();
    const candidates: Array<[TokenKind, number]> = [];
    const c = s[start];
    const rest2 = s.slice(start, start + 3);
    if (rest2 === 'AND') candidates.push(['AND', 3]);
    if (rest2.startsWith('&&')) candidates.push(['AND', 2]);
    if (rest2.startsWith('OR') || rest2.startsWith('||')) candidates.push(['OR', 2]);
    if (rest2 === 'NOT') candidates.push(['NOT', 3]);
    if (c === '!') candidates.push(['NOT', 1]);
    if (c === '+') candidates.push(['PLUS', 1]);
    if (c === '-') candidates.push(['MINUS', 1]);
    if ((c === '+' || c === '-' || c === '!') && start + 1 < s.length && WHITESPACE.has(s[start + 1])) candidates.push(['BAREOPER', 2]);
    if (c === '(') candidates.push(['LPAREN', 1]);
    if (c === ')') candidates.push(['RPAREN', 1]);
    if (c === ':') candidates.push(['COLON', 1]);
    if (c === '*') candidates.push(['STAR', 1]);
    if (c === '^') candidates.push(['CARAT', 1]);
    if (c === '"') {
      const end = this.quotedEnd(start);
      if (end > 0) candidates.push(['QUOTED', end - start]);
    }
    const termLength = this.termLength(start, false);
    if (termLength > 0) candidates.push(['TERM', termLength]);
    if (c === '~') candidates.push(['FUZZY_SLOP', this.fuzzySlopLength(start)]);
    const prefixLength = this.prefixTermLength(start, termLength);
    if (prefixLength > 0) candidates.push(['PREFIXTERM', prefixLength]);
    const wildLength = this.termLength(start, true);
    if (wildLength > 0) candidates.push(['WILDTERM', wildLength]);
    if (c === '/') {
      const end = this.regexpEnd(start);
      if (end > 0) candidates.push(['REGEXPTERM', end - start]);
    }
    if (c === '[') candidates.push(['RANGEIN_START', 1]);
    if (c === '{') candidates.push(['RANGEEX_START', 1]);
    if (candidates.length === 0) {
      throw new SyntaxError(`Lexical error at line ${lineOf(s, start)}, column ${columnOf(s, start) + 1}.  Encountered: ${describeChar(s, start)} after : ""`);
    }
    // Longest match; on ties the rule declared first (the order above) wins.
    let best = candidates[0];
    for (const candidate of candidates) if (candidate[1] > best[1]) best = candidate;
    const token = this.take(best[0], best[1]);
    if (token.kind === 'CARAT') this.state = 'boost';
    if (token.kind === 'RANGEIN_START' || token.kind === 'RANGEEX_START') this.state = 'range';
    return token;
  }

  private take(kind: TokenKind, length: number): Token {
    const token = { kind, image: this.s.slice(this.i, this.i + length), offset: this.i };
    this.i += length;
    return token;
  }

  private rangeToken(): Token {
    const s = this.s;
    const start = this.i;
    const c = s[start];
    if (c === ']') {
      this.state = 'default';
      return this.take('RANGEIN_END', 1);
    }
    if (c === '}') {
      this.state = 'default';
      return this.take('RANGEEX_END', 1);
    }
    let quoted = 0;
    if (c === '"') {
      let j = start + 1;
      while (j < s.length && s[j] !== '"') j += s[j] === '\\' && s[j + 1] === '"' ? 2 : 1;
      if (j < s.length && j > start + 1) quoted = j + 1 - start;
    }
    let goop = 0;
    while (start + goop < s.length && !' ]}'.includes(s[start + goop]) && !WHITESPACE.has(s[start + goop])) goop++;
    const to = s.startsWith('TO', start) ? 2 : 0;
    const best = Math.max(quoted, goop, to);
    if (best === 0) throw new SyntaxError(`Lexical error at line ${lineOf(s, start)}, column ${columnOf(s, start) + 1}.  Encountered: ${describeChar(s, start)} after : ""`);
    if (to === best) return this.take('RANGE_TO', 2);
    if (quoted === best) return this.take('RANGE_QUOTED', quoted);
    return this.take('RANGE_GOOP', goop);
  }

  /** End (exclusive) of a quoted string starting at `start`, or 0 when it never closes. */
  private quotedEnd(start: number): number {
    const s = this.s;
    let j = start + 1;
    while (j < s.length) {
      if (s[j] === '\\') {
        if (j + 1 >= s.length) return 0;
        j += 2;
      } else if (s[j] === '"') return j + 1;
      else j++;
    }
    return 0;
  }

  private regexpEnd(start: number): number {
    const s = this.s;
    let j = start + 1;
    while (j < s.length) {
      if (s[j] === '\\' && s[j + 1] === '/') j += 2;
      else if (s[j] === '/') return j + 1;
      else j++;
    }
    return 0;
  }

  /** Length of one term char (escape = 2) at `j`, or 0. `start` forbids `-`/`+`; `wild` admits `*`/`?`. */
  private charLength(j: number, first: boolean, wild: boolean): number {
    const s = this.s;
    if (j >= s.length) return 0;
    const c = s[j];
    if (c === '\\') return j + 1 < s.length ? 2 : 0;
    if (wild && (c === '*' || c === '?')) return 1;
    if (!first && (c === '-' || c === '+')) return 1;
    return NOT_TERM_START.has(c) ? 0 : 1;
  }

  private termLength(start: number, wild: boolean): number {
    let j = start;
    const first = this.charLength(j, true, wild);
    if (first === 0) return 0;
    j += first;
    for (;;) {
      const n = this.charLength(j, false, wild);
      if (n === 0) break;
      j += n;
    }
    return j - start;
  }

  private prefixTermLength(start: number, termLength: number): number {
    if (this.s[start] === '*') return 1;
    if (termLength > 0 && this.s[start + termLength] === '*') return termLength + 1;
    return 0;
  }

  private fuzzySlopLength(start: number): number {
    const s = this.s;
    let j = start + 1;
    const digits = /^\d+(\.\d+)?/.exec(s.slice(j, j + 64));
    if (digits) j += digits[0].length;
    for (;;) {
      const n = this.charLength(j, false, false);
      if (n === 0) break;
      j += n;
    }
    return j - start;
  }
}

/** JavaCC's tokenImage of each token kind, as its error messages print them. */
const TOKEN_IMAGES: Record<TokenKind, string> = {
  AND: '<AND>', OR: '<OR>', NOT: '<NOT>', PLUS: '"+"', MINUS: '"-"', BAREOPER: '<BAREOPER>', LPAREN: '"("', RPAREN: '")"',
  COLON: '":"', STAR: '"*"', CARAT: '"^"', QUOTED: '<QUOTED>', TERM: '<TERM>', FUZZY_SLOP: '<FUZZY_SLOP>', PREFIXTERM: '<PREFIXTERM>',
  WILDTERM: '<WILDTERM>', REGEXPTERM: '<REGEXPTERM>', RANGEIN_START: '"["', RANGEEX_START: '"{"', NUMBER: '<NUMBER>', RANGE_TO: '"TO"',
  RANGEIN_END: '"]"', RANGEEX_END: '"}"', RANGE_QUOTED: '<RANGE_QUOTED>', RANGE_GOOP: '<RANGE_GOOP>', EOF: '<EOF>',
};

/** JavaCC's add_escapes: backslash escapes for quotes, backslashes and control characters. */
function javaccEscape(text: string): string {
  return text.replace(/[\b\t\n\f\r"'\\]/g, (c) => ({ '\b': '\\b', '\t': '\\t', '\n': '\\n', '\f': '\\f', '\r': '\\r', '"': '\\"', "'": "\\'", '\\': '\\\\' })[c] ?? c);
}

function lineOf(s: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (s[i] === '\n') line++;
  return line;
}

function columnOf(s: string, offset: number): number {
  const lineStart = s.lastIndexOf('\n', offset - 1) + 1;
  return offset - lineStart;
}

function describeChar(s: string, offset: number): string {
  if (offset >= s.length) return '<EOF>';
  const code = s.charCodeAt(offset);
  return `"${s[offset]}" (${code})`;
}

/** Lucene's discardEscapeChar: `\x` → `x`, `\uXXXX` → the character. */
function discardEscapeChar(input: string): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const c = input[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    if (i + 1 >= input.length) throw new SyntaxError('Term can not end with escape character.');
    const next = input[i + 1];
    if (next === 'u') {
      const hex = input.slice(i + 2, i + 6);
      if (hex.length < 4) throw new SyntaxError('Truncated unicode escape sequence.');
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new SyntaxError(`Non-hex character in Unicode escape sequence: ${hex.replace(/[0-9a-fA-F]/g, '')[0]}`);
      out += String.fromCharCode(parseInt(hex, 16));
      i += 5;
    } else {
      out += next;
      i++;
    }
  }
  return out;
}

const MOD_NONE = 0;
const MOD_NOT = 10;
const MOD_REQ = 11;
const CONJ_NONE = 0;
const CONJ_AND = 1;
const CONJ_OR = 2;

/** Recursive-descent version of Lucene's QueryParser.jj (one token of lookahead plus a peek). */
class ClassicParser {
  private readonly lexer: Lexer;
  private readonly tokens: Token[] = [];
  private depth = 0;

  constructor(private readonly text: string, private readonly options: QueryStringOptions) {
    this.lexer = new Lexer(text);
  }

  parse(): QueryNode {
    const q = this.query(null);
    this.expect('EOF');
    return q ?? { kind: 'match_none', boost: 1 };
  }

  private peek(n = 0): Token {
    while (this.tokens.length <= n) this.tokens.push(this.lexer.next());
    return this.tokens[n];
  }

  private consume(): Token {
    const token = this.peek();
    this.tokens.shift();
    return token;
  }

  private expect(kind: TokenKind): Token {
    const token = this.peek();
    if (token.kind !== kind) throw this.unexpected(token);
    return this.consume();
  }

  /** JavaCC's ParseException text (without its "Was expecting one of" list). */
  private unexpected(token: Token): SyntaxError {
    const offset = token.kind === 'EOF' ? Math.max(0, this.text.length - 1) : token.offset;
    const where = `at line ${lineOf(this.text, offset)}, column ${columnOf(this.text, offset) + 1}.`;
    if (token.kind === 'EOF') return new SyntaxError(`Encountered "<EOF>" ${where}`);
    return new SyntaxError(`Encountered " ${TOKEN_IMAGES[token.kind]} "${javaccEscape(token.image)} "" ${where}`);
  }

  private startsClause(kind: TokenKind): boolean {
    return ['PLUS', 'MINUS', 'NOT', 'LPAREN', 'STAR', 'QUOTED', 'TERM', 'PREFIXTERM', 'WILDTERM', 'REGEXPTERM', 'RANGEIN_START', 'RANGEEX_START', 'NUMBER', 'BAREOPER'].includes(kind);
  }

  /** Query := Modifiers Clause ( Conjunction Modifiers Clause )* */
  private query(field: string | null): QueryNode | null {
    if (++this.depth > 100) throw new SyntaxError('query is nested too deeply');
    const clauses: Clause[] = [];
    let mods = this.modifiers();
    let q = this.clause(field);
    this.addClause(clauses, CONJ_NONE, mods, q);
    const firstQuery = mods === MOD_NONE ? q : null;
    for (;;) {
      const kind = this.peek().kind;
      if (kind !== 'AND' && kind !== 'OR' && !this.startsClause(kind)) break;
      const conj = this.conjunction();
      mods = this.modifiers();
      q = this.clause(field);
      this.addClause(clauses, conj, mods, q);
    }
    this.depth--;
    if (clauses.length === 1 && firstQuery !== null) return firstQuery;
    return clauses.length === 0 ? null : boolOf(clauses);
  }

  private conjunction(): number {
    const kind = this.peek().kind;
    if (kind === 'AND') {
      this.consume();
      return CONJ_AND;
    }
    if (kind === 'OR') {
      this.consume();
      return CONJ_OR;
    }
    return CONJ_NONE;
  }

  private modifiers(): number {
    const kind = this.peek().kind;
    if (kind === 'PLUS') {
      this.consume();
      return MOD_REQ;
    }
    if (kind === 'MINUS' || kind === 'NOT') {
      this.consume();
      return MOD_NOT;
    }
    return MOD_NONE;
  }

  /** QueryParserBase.addClause: the classic, precedence-free boolean logic. */
  private addClause(clauses: Clause[], conj: number, mods: number, q: QueryNode | null): void {
    const operatorAnd = this.options.defaultOperator === 'and';
    if (clauses.length > 0 && conj === CONJ_AND) {
      const last = clauses[clauses.length - 1];
      if (last.occur !== 'mustNot') last.occur = 'must';
    }
    if (clauses.length > 0 && operatorAnd && conj === CONJ_OR) {
      const last = clauses[clauses.length - 1];
      if (last.occur !== 'mustNot') last.occur = 'should';
    }
    if (q === null) return;
    let required: boolean;
    const prohibited = mods === MOD_NOT;
    if (!operatorAnd) {
      required = mods === MOD_REQ || (conj === CONJ_AND && !prohibited);
    } else {
      required = !prohibited && conj !== CONJ_OR;
    }
    if (required && !prohibited) clauses.push({ occur: 'must', query: q });
    else if (!required && !prohibited) clauses.push({ occur: 'should', query: q });
    else clauses.push({ occur: 'mustNot', query: q });
  }

  /** Clause := [ (TERM | STAR) COLON ] ( Term | LPAREN Query RPAREN [CARAT NUMBER] ) */
  private clause(field: string | null): QueryNode | null {
    const first = this.peek();
    if ((first.kind === 'TERM' || first.kind === 'STAR') && this.peek(1).kind === 'COLON') {
      this.consume();
      this.consume();
      field = first.kind === 'STAR' ? '*' : discardEscapeChar(first.image);
    }
    const token = this.peek();
    if (token.kind === 'LPAREN') {
      this.consume();
      const q = this.query(field);
      this.expect('RPAREN');
      const boost = this.optionalBoost();
      return applyBoost(q, boost);
    }
    return this.term(field);
  }

  /** A term's `^boost` and `~slop` suffixes, in either order (Lucene's classic grammar allows both). */
  private boostAndSlop(): { boost: number | undefined; fuzzySlop: Token | undefined } {
    let boost: number | undefined;
    let fuzzySlop: Token | undefined;
    if (this.peek().kind === 'CARAT') {
      boost = this.optionalBoost();
      if (this.peek().kind === 'FUZZY_SLOP') fuzzySlop = this.consume();
    } else if (this.peek().kind === 'FUZZY_SLOP') {
      fuzzySlop = this.consume();
      boost = this.optionalBoost();
    }
    return { boost, fuzzySlop };
  }

  private optionalBoost(): number | undefined {
    if (this.peek().kind !== 'CARAT') return undefined;
    this.consume();
    return Number(this.expect('NUMBER').image);
  }

  private term(field: string | null): QueryNode | null {
    const token = this.peek();
    switch (token.kind) {
      case 'TERM':
      case 'STAR':
      case 'PREFIXTERM':
      case 'WILDTERM':
      case 'REGEXPTERM':
      case 'NUMBER':
      case 'BAREOPER': {
        this.consume();
        const { boost, fuzzySlop } = this.boostAndSlop();
        return applyBoost(this.bareToken(field, token, fuzzySlop), boost);
      }
      case 'RANGEIN_START':
      case 'RANGEEX_START': {
        this.consume();
        const startInclusive = token.kind === 'RANGEIN_START';
        const goop1 = this.rangePart();
        if (this.peek().kind === 'RANGE_TO') {
          // "[TO TO b]": the first TO was the lower bound; this one is the keyword.
          this.consume();
        }
        const goop2 = this.rangePart();
        const end = this.consume();
        if (end.kind !== 'RANGEIN_END' && end.kind !== 'RANGEEX_END') throw this.unexpected(end);
        const boost = this.optionalBoost();
        const lower = rangeBound(goop1);
        const upper = rangeBound(goop2);
        return applyBoost(this.rangeNode(field, lower, upper, startInclusive, end.kind === 'RANGEIN_END'), boost);
      }
      case 'QUOTED': {
        this.consume();
        const { boost, fuzzySlop } = this.boostAndSlop();
        let slop = this.options.phraseSlop;
        if (fuzzySlop) {
          const parsed = parseFloat(fuzzySlop.image.slice(1));
          if (Number.isFinite(parsed)) slop = Math.trunc(parsed);
        }
        const text = discardEscapeChar(token.image.slice(1, -1));
        const analyzer = this.options.quoteAnalyzer ?? this.options.analyzer;
        return applyBoost(this.fielded(field, (f) => phraseNode(f, text, slop, analyzer)), boost);
      }
      default:
        throw this.unexpected(token);
    }
  }

  private rangePart(): Token {
    const token = this.consume();
    if (token.kind !== 'RANGE_GOOP' && token.kind !== 'RANGE_QUOTED' && token.kind !== 'RANGE_TO') throw this.unexpected(token);
    return token;
  }

  private fielded(field: string | null, make: (field: string) => QueryNode): QueryNode {
    return perField(field, this.options.fields, this.options.tieBreaker, make);
  }

  private bareToken(field: string | null, token: Token, fuzzySlop: Token | undefined): QueryNode | null {
    const o = this.options;
    const image = token.kind === 'BAREOPER' ? token.image[0] : token.image;
    if (token.kind === 'STAR' || token.kind === 'WILDTERM') {
      if (image === '*') {
        // Elasticsearch: `*:*` is match_all and `field:*` is exists.
        if (field === '*' || (field === null && o.fields.length === 1 && o.fields[0].field === '*')) return { kind: 'match_all', boost: 1 };
        return this.fielded(field, (f) => ({ kind: 'exists', field: f, boost: 1 }));
      }
      this.checkLeadingWildcard(image);
      return this.fielded(field, (f) => ({ kind: 'wildcard', field: f, value: image, caseInsensitive: false, boost: 1 }));
    }
    if (token.kind === 'PREFIXTERM') {
      if (image === '*') return { kind: 'match_all', boost: 1 };
      this.checkLeadingWildcard(image);
      const value = discardEscapeChar(image.slice(0, -1));
      return this.fielded(field, (f) => ({ kind: 'prefix', field: f, value, caseInsensitive: false, boost: 1 }));
    }
    if (token.kind === 'REGEXPTERM') {
      const value = image.slice(1, -1);
      return this.fielded(field, (f) => ({ kind: 'regexp', field: f, value, flags: 'ALL', maxDeterminizedStates: o.maxDeterminizedStates, caseInsensitive: false, boost: 1 }));
    }
    const text = discardEscapeChar(image);
    if (fuzzySlop) {
      const spec = fuzzySlop.image.slice(1);
      let fuzziness = o.fuzziness;
      if (spec !== '') {
        const n = parseFloat(spec);
        if (spec.toUpperCase().startsWith('AUTO')) fuzziness = spec.toUpperCase();
        else if (!Number.isFinite(n) || n < 0) throw new SyntaxError('Minimum similarity for a FuzzyQuery has to be between 0.0f and 1.0f !');
        else if (n >= 1 && n !== Math.trunc(n)) throw new SyntaxError('Fractional edit distances are not allowed!');
        else fuzziness = String(Math.min(Math.trunc(n), FUZZINESS_MAX_EDITS));
      }
      return this.fielded(field, (f) => ({
        kind: 'fuzzy',
        field: f,
        value: text,
        fuzziness,
        prefixLength: o.fuzzyPrefixLength,
        maxExpansions: o.fuzzyMaxExpansions,
        transpositions: o.fuzzyTranspositions,
        boost: 1,
      }));
    }
    return this.fieldQuery(field, text);
  }

  /** QueryStringQueryParser.getFieldQuery: `_exists_:f`, `>=5`/`<5` ranges, else an analysed match. */
  private fieldQuery(field: string | null, text: string): QueryNode {
    if (field === '_exists_') return { kind: 'exists', field: text, boost: 1 };
    if (text.length > 1 && (text[0] === '>' || text[0] === '<')) {
      const inclusive = text.length > 2 && text[1] === '=';
      const value = text.slice(inclusive ? 2 : 1);
      return text[0] === '>' ? this.rangeNode(field, value, null, inclusive, true) : this.rangeNode(field, null, value, true, inclusive);
    }
    return this.fielded(field, (f) => matchNode(f, text, this.options.defaultOperator, this.options.analyzer));
  }

  private rangeNode(field: string | null, lower: string | null, upper: string | null, lowerInclusive: boolean, upperInclusive: boolean): QueryNode {
    return this.fielded(field, (f) => {
      const node: QueryNode = { kind: 'range', field: f, relation: 'intersects', boost: 1 };
      if (lower !== null) node[lowerInclusive ? 'gte' : 'gt'] = lower;
      if (upper !== null) node[upperInclusive ? 'lte' : 'lt'] = upper;
      if (this.options.timeZone !== undefined) node.timeZone = this.options.timeZone;
      return node;
    });
  }

  private checkLeadingWildcard(image: string): void {
    if (!this.options.allowLeadingWildcard && (image.startsWith('*') || image.startsWith('?'))) {
      throw new SyntaxError("'*' or '?' not allowed as first character in WildcardQuery");
    }
  }
}

function rangeBound(token: Token): string | null {
  if (token.kind === 'RANGE_QUOTED') return discardEscapeChar(token.image.slice(1, -1));
  if (token.image === '*') return null;
  return discardEscapeChar(token.image);
}

function applyBoost(q: QueryNode | null, boost: number | undefined): QueryNode | null {
  if (q === null || boost === undefined) return q;
  // Lucene wraps in a BoostQuery; boosts multiply, so folding into the node is the same.
  q.boost *= boost;
  return q;
}

/** Lucene's QueryParser.escape: a backslash before every syntax character (query_string `escape: true`). */
export function escapeQueryString(text: string): string {
  return text.replace(/[\\+\-!():^[\]"{}~*?|&/]/g, (c) => `\\${c}`);
}

/** Parses query_string text; bad syntax is Elasticsearch's 400 query_shard_exception. */
export function parseQueryString(text: string, options: QueryStringOptions): QueryNode {
  if (text.length > QUERY_STRING_MAX_LENGTH) {
    throw new QuarryError('illegal_argument_exception', `query_string text is [${text.length}] characters, more than the [${QUERY_STRING_MAX_LENGTH}] allowed`);
  }
  if (text.trim() === '') return { kind: 'match_none', boost: 1 };
  try {
    return new ClassicParser(text, options).parse();
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    // Elasticsearch's root cause is the query_shard_exception; Lucene's ParseException rides along.
    return failParse(text, error.message);
  }
}

function failParse(text: string, detail: string): never {
  throw new QuarryError('query_shard_exception', `Failed to parse query [${text}]`, {
    caused_by: { type: 'parse_exception', reason: `Cannot parse '${text}': ${detail}` },
  });
}

// ---- simple_query_string ----------------------------------------------------------------------------

/** SimpleQueryStringFlag values (Lucene SimpleQueryParser operator bits). */
export const SIMPLE_QUERY_STRING_FLAGS = {
  ALL: -1,
  NONE: 0,
  AND: 1 << 0,
  NOT: 1 << 1,
  OR: 1 << 2,
  PREFIX: 1 << 3,
  PHRASE: 1 << 4,
  PRECEDENCE: 1 << 5,
  ESCAPE: 1 << 6,
  WHITESPACE: 1 << 7,
  FUZZY: 1 << 8,
  NEAR: 1 << 9,
  SLOP: 1 << 9,
} as const;

/** `"OR|AND|PREFIX"` (or a number) → bitmask; unknown names are illegal_argument_exception as in ES. */
export function parseSimpleQueryStringFlags(flags: string | number): number {
  if (typeof flags === 'number') return Math.trunc(flags);
  if (flags.length === 0) return SIMPLE_QUERY_STRING_FLAGS.ALL;
  let mask = 0;
  for (const part of flags.split('|')) {
    if (part === '') continue;
    const name = part.trim().toUpperCase();
    if (!Object.prototype.hasOwnProperty.call(SIMPLE_QUERY_STRING_FLAGS, name)) {
      throw new QuarryError('illegal_argument_exception', `Unknown simple_query_string flag [${part}]`);
    }
    const value = SIMPLE_QUERY_STRING_FLAGS[name as keyof typeof SIMPLE_QUERY_STRING_FLAGS];
    if (name === 'NONE') return 0;
    if (name === 'ALL') return -1;
    mask |= value;
  }
  return mask;
}

type SimpleOccur = 'must' | 'should';

/** Deepest `( )` nesting simple_query_string follows; deeper parentheses are ignored (Lucene recurses without bound). */
const SIMPLE_NESTING_MAX = 100;

interface SimpleState {
  index: number;
  end: number;
  top: QueryNode | null;
  currentOperation: SimpleOccur | null;
  previousOperation: SimpleOccur | null;
  not: number;
}

/** Lucene's SimpleQueryParser, operating on code units; never throws on syntax. */
class SimpleParser {
  private readonly defaultOccur: SimpleOccur;
  private closeOf: Int32Array | undefined;
  private depth = 0;
  constructor(private readonly s: string, private readonly o: SimpleQueryStringOptions) {
    this.defaultOccur = o.defaultOperator === 'and' ? 'must' : 'should';
  }

  parse(): QueryNode {
    const state: SimpleState = { index: 0, end: this.s.length, top: null, currentOperation: null, previousOperation: null, not: 0 };
    this.parseSubQuery(state);
    return state.top ?? { kind: 'match_none', boost: 1 };
  }

  private on(flag: keyof typeof SIMPLE_QUERY_STRING_FLAGS): boolean {
    return (this.o.flagsMask & SIMPLE_QUERY_STRING_FLAGS[flag]) !== 0;
  }

  private parseSubQuery(state: SimpleState): void {
    const s = this.s;
    while (state.index < state.end) {
      const c = s[state.index];
      if (c === '(' && this.on('PRECEDENCE')) this.consumeSubQuery(state);
      else if (c === ')' && this.on('PRECEDENCE')) state.index++;
      else if (c === '"' && this.on('PHRASE')) this.consumePhrase(state);
      else if (c === '+' && this.on('AND')) {
        if (state.currentOperation === null && state.top !== null) state.currentOperation = 'must';
        state.index++;
      } else if (c === '|' && this.on('OR')) {
        if (state.currentOperation === null && state.top !== null) state.currentOperation = 'should';
        state.index++;
      } else if (c === '-' && this.on('NOT')) {
        state.not++;
        state.index++;
        continue;
      } else if ((c === ' ' || c === '\t' || c === '\n' || c === '\r') && this.on('WHITESPACE')) state.index++;
      else this.consumeToken(state);
      state.not = 0;
    }
  }

  /**
   * Matching `)` of every `(` in one left-to-right pass (escapes honoured), or -1. Lucene rescans from
   * each `(`, which is quadratic on `((((...`; a stack gives the same pairs, since every scan starts
   * right after an unescaped `(` and counts the same characters.
   */
  private matches(): Int32Array {
    if (this.closeOf) return this.closeOf;
    const s = this.s;
    const closeOf = new Int32Array(s.length).fill(-1);
    const open: number[] = [];
    for (let i = 0; i < s.length; i++) {
      const c = s[i];
      if (c === '\\' && this.on('ESCAPE')) i++;
      else if (c === '(') open.push(i);
      else if (c === ')' && open.length > 0) closeOf[open.pop()!] = i;
    }
    this.closeOf = closeOf;
    return closeOf;
  }

  private consumeSubQuery(state: SimpleState): void {
    const openAt = state.index;
    const start = ++state.index;
    const close = this.matches()[openAt];
    if (close < 0 || close >= state.end || this.depth >= SIMPLE_NESTING_MAX) {
      // No closing parenthesis (or nesting past our bound): the '(' is extraneous and ignored.
      state.index = start;
    } else if (close === start) {
      state.currentOperation = null;
      state.index = close + 1;
    } else {
      const sub: SimpleState = { index: start, end: close, top: null, currentOperation: null, previousOperation: null, not: 0 };
      this.depth++;
      this.parseSubQuery(sub);
      this.depth--;
      state.index = close;
      this.buildQueryTree(state, sub.top);
      state.index++;
    }
  }

  private consumePhrase(state: SimpleState): void {
    const s = this.s;
    const start = ++state.index;
    let copied = '';
    let escaped = false;
    let hasSlop = false;
    while (state.index < state.end) {
      if (!escaped) {
        const c = s[state.index];
        if (c === '\\' && this.on('ESCAPE')) {
          escaped = true;
          state.index++;
          continue;
        } else if (c === '"') {
          if (state.end > state.index + 1 && s[state.index + 1] === '~' && this.on('NEAR')) {
            state.index++;
            if (state.end > state.index + 1) hasSlop = true;
          }
          break;
        }
      }
      escaped = false;
      copied += s[state.index++];
    }
    if (state.index === state.end) {
      state.index = start;
    } else if (state.index === start) {
      state.currentOperation = null;
      state.index++;
    } else {
      const slop = hasSlop ? this.parseFuzziness(state) : 0;
      const phrase = copied;
      this.buildQueryTree(state, this.fielded((f) => phraseNode(f, phrase, slop, this.o.analyzer)));
      state.index++;
    }
  }

  private consumeToken(state: SimpleState): void {
    const s = this.s;
    let copied = '';
    let escaped = false;
    let prefix = false;
    let fuzzy = false;
    while (state.index < state.end) {
      if (!escaped) {
        const c = s[state.index];
        if (c === '\\' && this.on('ESCAPE')) {
          escaped = true;
          prefix = false;
          state.index++;
          continue;
        } else if (this.tokenFinished(state)) {
          break;
        } else if (copied.length > 0 && c === '~' && this.on('FUZZY')) {
          fuzzy = true;
          break;
        }
        prefix = copied.length > 0 && c === '*' && this.on('PREFIX');
      }
      escaped = false;
      copied += s[state.index++];
    }
    if (copied.length === 0) return;
    let branch: QueryNode;
    if (fuzzy && this.on('FUZZY')) {
      const fuzziness = Math.min(this.parseFuzziness(state), FUZZINESS_MAX_EDITS);
      const token = copied;
      branch =
        fuzziness === 0
          ? this.fielded((f) => matchNode(f, token, this.o.defaultOperator, this.o.analyzer))
          : this.fielded((f) => ({
              kind: 'fuzzy',
              field: f,
              value: token,
              fuzziness: String(fuzziness),
              prefixLength: this.o.fuzzyPrefixLength,
              maxExpansions: this.o.fuzzyMaxExpansions,
              transpositions: this.o.fuzzyTranspositions,
              boost: 1,
            }));
    } else if (prefix) {
      const token = copied.slice(0, -1);
      branch = this.fielded((f) => ({ kind: 'prefix', field: f, value: token, caseInsensitive: false, boost: 1 }));
    } else {
      const token = copied;
      branch = this.fielded((f) => matchNode(f, token, this.o.defaultOperator, this.o.analyzer));
    }
    this.buildQueryTree(state, branch);
  }

  private tokenFinished(state: SimpleState): boolean {
    const c = this.s[state.index];
    return (
      (c === '"' && this.on('PHRASE')) ||
      (c === '|' && this.on('OR')) ||
      (c === '+' && this.on('AND')) ||
      (c === '(' && this.on('PRECEDENCE')) ||
      (c === ')' && this.on('PRECEDENCE')) ||
      ((c === ' ' || c === '\t' || c === '\n' || c === '\r') && this.on('WHITESPACE'))
    );
  }

  /** `~N` after a token or phrase (`~` alone = 2); bad numbers are 0, as Lucene swallows them. */
  private parseFuzziness(state: SimpleState): number {
    const s = this.s;
    let slop = '';
    if (s[state.index] !== '~') return 0;
    while (state.index < state.end) {
      state.index++;
      if (state.index < state.end) {
        if (this.tokenFinished(state)) break;
        slop += s[state.index];
      }
    }
    let fuzziness = 0;
    if (slop === '') fuzziness = 2;
    else if (/^[+-]?\d+$/.test(slop) && Math.abs(Number(slop)) <= 2147483647) fuzziness = Number(slop);
    return fuzziness < 0 ? 0 : fuzziness;
  }

  private fielded(make: (field: string) => QueryNode): QueryNode {
    return perField(null, this.o.fields, 1, make);
  }

  private buildQueryTree(state: SimpleState, branch: QueryNode | null): void {
    if (branch === null) return;
    if (state.not % 2 === 1) {
      branch = { kind: 'bool', must: [], filter: [], should: [{ kind: 'match_all', boost: 1 }], mustNot: [branch], boost: 1 };
    }
    if (state.top === null) {
      state.top = branch;
    } else {
      if (state.currentOperation === null) state.currentOperation = this.defaultOccur;
      if (state.previousOperation !== state.currentOperation) {
        const wrapper: QueryNode = { kind: 'bool', must: [], filter: [], should: [], mustNot: [], boost: 1 };
        wrapper[state.currentOperation].push(state.top);
        state.top = wrapper;
      }
      if (state.top.kind === 'bool') state.top[state.currentOperation].push(branch);
      state.previousOperation = state.currentOperation;
    }
    state.currentOperation = null;
    state.not = 0;
  }
}

/** Parses simple_query_string text; never fails on syntax (Elasticsearch's behaviour). */
export function parseSimpleQueryString(text: string, options: SimpleQueryStringOptions): QueryNode {
  if (text.length > QUERY_STRING_MAX_LENGTH) {
    throw new QuarryError('illegal_argument_exception', `simple_query_string text is [${text.length}] characters, more than the [${QUERY_STRING_MAX_LENGTH}] allowed`);
  }
  return new SimpleParser(text, options).parse();
}
