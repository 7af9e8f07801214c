/** Assertions for our own invariants (bugs), as opposed to QuarryErrors for the world's bad input. */

/** An invariant of ours does not hold: a bug, never bad input. */
export class AssertionFailure extends Error {
  constructor(message: string) {
    super(`assertion failed: ${message}`);
    this.name = 'AssertionFailure';
  }
}

/** Throws AssertionFailure when `condition` is false. */
export function assert(condition: unknown, message = 'invariant violated'): asserts condition {
  if (!condition) throw new AssertionFailure(message);
}
