/** Well-known paths of the repository, for tests that run the built program. */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The repository root (this file lives in `test/helpers/`). */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The built CLI that process tests spawn (built by test/global-setup.ts). */
export const QUARRY_BIN = join(REPO_ROOT, 'dist', 'bin', 'quarry.js');
