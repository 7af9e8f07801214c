/** Partial updates (`_update` with `doc`): Elasticsearch's deep merge of objects and its no-op detection. */

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Merges `partial` into `existing` as Elasticsearch's XContentHelper.update does: objects merge
 * recursively, everything else (arrays included) is replaced. Returns the merged doc (existing is not
 * modified) and whether anything changed.
 */
export function applyPartialUpdate(existing: Record<string, unknown>, partial: Record<string, unknown>): { merged: Record<string, unknown>; changed: boolean } {
  const merged: Record<string, unknown> = { ...existing };
  let changed = false;
  for (const key of Object.keys(partial)) {
    const next = partial[key];
    const prev = merged[key];
    if (isPlainObject(next) && isPlainObject(prev)) {
      const inner = applyPartialUpdate(prev, next);
      if (inner.changed) {
        merged[key] = inner.merged;
        changed = true;
      }
    } else if (!(key in merged) || !deepEqual(prev, next)) {
      merged[key] = next;
      changed = true;
    }
  }
  return { merged, changed };
}

/** Structural equality of JSON values. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  for (const k of ka) if (!deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  return true;
}
