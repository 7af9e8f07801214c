/**
 * Where a JSON path lies in the body text, for error positions (`line`/`col` of parsing_exception,
 * `[line:col]` of x_content_parse_exception). Runs only on the error path, over text that JSON.parse
 * already accepted; it walks down the path and skips everything else without building values
 * (iteratively, so deep nesting cannot overflow the stack).
 */

/** One step of a path: an object key or an array index. */
export type PathStep = string | number;

/** A 1-based line and column, as Jackson reports them. */
export interface TextPosition {
  line: number;
  column: number;
}

/**
 * Position of `path` in `text`: with `at = 'key'` (default) and a path ending in a key, that key's
 * opening quote; otherwise the first character of the value. Undefined when the path is not there.
 */
export function locateJsonPath(text: string, path: readonly PathStep[], at: 'key' | 'value' = 'key'): TextPosition | undefined {
  const offset = locateOffset(text, path, at);
  return offset === undefined ? undefined : lineColumn(text, offset);
}

/** 1-based line and column of a character offset. */
export function lineColumn(text: string, offset: number): TextPosition {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

function locateOffset(text: string, path: readonly PathStep[], at: 'key' | 'value'): number | undefined {
  let i = skipSpace(text, 0);
  if (text.charCodeAt(i) === 0xfeff) i = skipSpace(text, i + 1);
  for (let depth = 0; depth < path.length; depth++) {
    const step = path[depth];
    const last = depth === path.length - 1;
    const open = text[i];
    if (typeof step === 'number') {
      if (open !== '[') return undefined;
      i = skipSpace(text, i + 1);
      for (let index = 0; ; index++) {
        if (text[i] === ']' || i >= text.length) return undefined;
        if (index === step) break;
        i = skipSpace(text, skipValue(text, i));
        if (text[i] === ',') i = skipSpace(text, i + 1);
      }
      if (last) return i;
      continue;
    }
    if (open !== '{') return undefined;
    i = skipSpace(text, i + 1);
    let found: number | undefined;
    let valueAt = 0;
    // Later duplicates win in JSON.parse, so the last matching key is the one that was parsed.
    while (i < text.length && text[i] !== '}') {
      const keyStart = i;
      const keyEnd = skipString(text, i);
      const key = JSON.parse(text.slice(keyStart, keyEnd)) as string;
      i = skipSpace(text, keyEnd);
      i = skipSpace(text, i + 1); // ':'
      if (key === step) {
        found = keyStart;
        valueAt = i;
      }
      i = skipSpace(text, skipValue(text, i));
      if (text[i] === ',') i = skipSpace(text, i + 1);
    }
    if (found === undefined) return undefined;
    if (last) return at === 'key' ? found : valueAt;
    i = valueAt;
  }
  return i;
}

function skipSpace(text: string, i: number): number {
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
    else break;
  }
  return i;
}

/** End offset (exclusive) of the string starting at `i`. */
function skipString(text: string, i: number): number {
  i++;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\') i += 2;
    else if (c === '"') return i + 1;
    else i++;
  }
  return i;
}

/** End offset of the value starting at `i` (objects and arrays by bracket counting outside strings). */
function skipValue(text: string, i: number): number {
  const c = text[i];
  if (c === '"') return skipString(text, i);
  if (c !== '{' && c !== '[') {
    while (i < text.length && !/[,\]}\s]/.test(text[i])) i++;
    return i;
  }
  let depth = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '"') {
      i = skipString(text, i);
      continue;
    }
    if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
    i++;
  }
  return i;
}
