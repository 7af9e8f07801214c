// Goal: partial updates merge like Elasticsearch (objects recursively, arrays replaced) and detect no-ops.
import { describe, expect, it } from 'vitest';
import { applyPartialUpdate } from './update.js';

describe('applyPartialUpdate', () => {
  it('merges objects recursively and replaces arrays and scalars', () => {
    const existing = { a: 1, o: { x: 1, y: [1, 2] }, keep: true };
    const { merged, changed } = applyPartialUpdate(existing, { a: 2, o: { y: [3], z: 'new' } });
    expect(changed).toBe(true);
    expect(merged).toEqual({ a: 2, o: { x: 1, y: [3], z: 'new' }, keep: true });
    expect(existing).toEqual({ a: 1, o: { x: 1, y: [1, 2] }, keep: true });
  });

  it('reports no change when every value is already there', () => {
    expect(applyPartialUpdate({ a: 1, o: { x: [1, { b: 2 }] } }, { a: 1, o: { x: [1, { b: 2 }] } }).changed).toBe(false);
    expect(applyPartialUpdate({ a: null }, { a: null }).changed).toBe(false);
    expect(applyPartialUpdate({}, { a: null }).changed).toBe(true);
  });
});
