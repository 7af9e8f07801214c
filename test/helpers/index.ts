/** Shared helpers for system tests (HTTP, crash, cluster): one import for everything. */
export { pollUntil, type PollOptions } from './poll.js';
export { tempDir, findFiles, testTmpRoot } from './fs.js';
export { freePort } from './net.js';
export { HttpClient, NetworkError, type HttpResponse, type RequestOptions } from './http.js';
export { startNodeProcess, type NodeProcess, type NodeProcessOptions } from './node-process.js';
export { corporaDir } from './corpora.js';
export { SeededRandom, testSeed } from './random.js';
export { REPO_ROOT, QUARRY_BIN } from './paths.js';
