/** Network helpers for tests. */
import { createServer } from 'node:net';

/**
 * A TCP port that was free a moment ago on 127.0.0.1 (the OS picks it; there is a small race
 * with other processes, acceptable in tests).
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not determine a free port'));
        return;
      }
      const port = address.port;
      server.close(() => resolve(port));
    });
  });
}
