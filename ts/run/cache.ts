import Database from 'better-sqlite3';
import { OptNativeError } from '../errors.js';
import type { GenerateRequest, GenerateResult, ScoreChoicesRequest, ScoreChoicesResult } from '../language-model.js';
import { cacheKeyMaterial, responseCacheKey, scoreCacheKey, scoreCacheKeyMaterial } from './cache-key.js';

export interface CacheStats {
  hits: number;
  misses: number;
  writes: number;
}

/**
 * A SQLite file with tables of its own is someone else's database (a user's `cache.sqlite`): it is never changed,
 * not even by adding the responses table.
 */
function refuseForeignDatabase(db: Database.Database, path: string): void {
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    .all() as { name: string }[];
  const foreign = tables.map((table) => table.name).filter((name) => name !== 'responses');
  if (foreign.length > 0) {
    throw new OptNativeError(
      'E_BAD_INPUT',
      `${path} is not a response cache (it holds table(s) ${foreign.join(', ')}); it is left untouched`,
    );
  }
}

/**
 * Model responses in a SQLite file (WAL, so readers never block the writer and a killed process loses nothing it
 * committed). Only successful results are stored; errors and aborted generations never are.
 */
export class ResponseCache {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly selectStatement: Database.Statement<[string], { result_json: string }>;
  private readonly insertStatement: Database.Statement<[string, string, string, string, string, number]>;
  private readonly counters: CacheStats = { hits: 0, misses: 0, writes: 0 };

  constructor(path: string) {
    this.path = path;
    this.db = new Database(path);
    try {
      refuseForeignDatabase(this.db, path);
    } catch (error) {
      this.db.close();
      throw error;
    }
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS responses (
      key TEXT PRIMARY KEY,
      provider TEXT NOT NULL,
      model TEXT NOT NULL,
      request_json TEXT NOT NULL,
      result_json TEXT NOT NULL,
      created_at INTEGER NOT NULL
    )`);
    this.selectStatement = this.db.prepare('SELECT result_json FROM responses WHERE key = ?');
    this.insertStatement = this.db.prepare(
      'INSERT OR REPLACE INTO responses (key, provider, model, request_json, result_json, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
  }

  get stats(): CacheStats {
    return { ...this.counters };
  }

  get(provider: string, modelId: string, request: GenerateRequest): GenerateResult | undefined {
    return this.lookup<GenerateResult>(responseCacheKey(provider, modelId, request));
  }

  /** Stored scores of a choice scoring request (same table, keys of their own kind). */
  getScores(provider: string, modelId: string, request: ScoreChoicesRequest): ScoreChoicesResult | undefined {
    return this.lookup<ScoreChoicesResult>(scoreCacheKey(provider, modelId, request));
  }

  putScores(provider: string, modelId: string, request: ScoreChoicesRequest, result: ScoreChoicesResult): void {
    const { cached: _cached, ...stored } = result;
    this.insert(
      scoreCacheKey(provider, modelId, request),
      provider,
      modelId,
      scoreCacheKeyMaterial(provider, modelId, request),
      stored,
    );
  }

  private lookup<T>(key: string): (T & { cached: true }) | undefined {
    const row = this.selectStatement.get(key);
    if (!row) {
      this.counters.misses += 1;
      return undefined;
    }
    this.counters.hits += 1;
    return { ...(JSON.parse(row.result_json) as T), cached: true };
  }

  private insert(key: string, provider: string, modelId: string, material: string, stored: unknown): void {
    this.insertStatement.run(key, provider, modelId, material, JSON.stringify(stored), Date.now());
    this.counters.writes += 1;
  }

  /** Stores a finished result; returns false (and stores nothing) for errors and aborted generations. */
  put(provider: string, modelId: string, request: GenerateRequest, result: GenerateResult): boolean {
    if (result.finishReason === 'error' || result.finishReason === 'aborted') return false;
    const { cached: _cached, ...stored } = result;
    this.insert(
      responseCacheKey(provider, modelId, request),
      provider,
      modelId,
      cacheKeyMaterial(provider, modelId, request),
      stored,
    );
    return true;
  }

  /** Number of stored responses. */
  size(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM responses').get() as { n: number }).n;
  }

  close(): void {
    this.db.close();
  }
}
