/** What every router file gets: the node, the shared auto-creator and the logger. */
import type { Logger } from 'pino';
import type { NodeApi } from '../../lib/cluster/api.js';
import type { IndexAutoCreator } from './write.js';

/** Shared dependencies of the route handlers. */
export interface Deps {
  node: NodeApi;
  autoCreator: IndexAutoCreator;
  logger: Logger;
}
