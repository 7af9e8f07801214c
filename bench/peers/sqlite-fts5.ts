/**
 * Peer child: SQLite FTS5 (better-sqlite3) indexing the corpus in batches, as the §9 target's
 * reference: WAL, `synchronous=FULL` (fsync per commit, like Quarry's fsync per bulk), one
 * transaction per batch, `fts5(title, body, tokenize='porter unicode61')`, a file in a temp dir.
 * Run by the harness: `node sqlite-fts5.js '<PeerIndexArgs JSON>'`.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { toBatches, parseCorpusLine } from '../ndjson.js';
import { dirSize, ProgressLine, readPeakRssBytes } from '../proc.js';
import { currentRssBytes, readPeerArgs, readPeerLines, reportPeerResult } from './protocol.js';

const args = readPeerArgs();
const lines = readPeerLines(args);
const baselineRssBytes = currentRssBytes();

const db = new Database(join(args.dataDir, 'bench.sqlite'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
// The rowid is the doc's position; FTS5 keeps title and body, as the brief specifies.
db.exec(`CREATE VIRTUAL TABLE docs USING fts5(title, body, tokenize='porter unicode61')`);
const insert = db.prepare('INSERT INTO docs(rowid, title, body) VALUES (?, ?, ?)');

const progress = new ProgressLine(`${args.label}`, lines.length);
let done = 0;
const startedAtMs = performance.now();
for (const batch of toBatches(lines, args.batchDocs)) {
  // Parsing is inside the clock: Quarry parses the same JSON out of each bulk body.
  const docs = batch.map((line, index) => parseCorpusLine(line, done + index + 1));
  const firstRowId = done + 1;
  db.transaction(() => {
    docs.forEach((doc, index) => insert.run(firstRowId + index, doc.title, doc.body));
  })();
  done += batch.length;
  progress.update(done);
}
const indexMs = performance.now() - startedAtMs;
progress.finish();

// FTS5's 'optimize' merges all b-trees of the index into one: the closest thing to forcemerge.
const mergeStartedAtMs = performance.now();
db.exec(`INSERT INTO docs(docs) VALUES ('optimize')`);
const mergeMs = performance.now() - mergeStartedAtMs;
db.pragma('wal_checkpoint(TRUNCATE)');
db.close();

const size = await dirSize(args.dataDir);
reportPeerResult({
  docs: done,
  indexMs,
  mergeMs,
  diskAllocatedBytes: size.allocatedBytes,
  diskApparentBytes: size.apparentBytes,
  baselineRssBytes,
  peakRssBytes: readPeakRssBytes('self') ?? Number.NaN,
});
