/** Starts a real in-process node (bin/node.ts) on an ephemeral port with a temp data dir, for HTTP tests. */
import pino from 'pino';
import { startNode } from '../../bin/node.js';
import { tempDir } from '../helpers/fs.js';
import { HttpClient } from '../helpers/http.js';

/** A running test node with a client bound to it. */
export interface TestNode {
  url: string;
  client: HttpClient;
  close(): Promise<void>;
}

/** Starts a node that logs only errors (QUARRY_TEST_LOG=warn shows rejected requests, =debug every request). */
export async function startTestNode(): Promise<TestNode> {
  const logger = pino({ level: process.env.QUARRY_TEST_LOG ?? 'error' });
  const node = await startNode({ dataPath: tempDir('quarry-http-'), port: 0, name: 'http-test', logger });
  return { url: node.url, client: new HttpClient(node.url), close: () => node.close() };
}
