import { BarsReader } from '../bars/bars.reader.js';
import { BarsRepository } from '../bars/bars.repository.js';
import { FuturesRepository } from '../futures/futures.repository.js';
import { PatternDetectionsRepository } from '../patterns/detections.repository.js';
import { PatternAnalyticsRepository } from '../patterns/analytics.repository.js';
import { ScenarioRunsRepository } from '../scenarios/runs.repository.js';
import { SandboxCatalog, SandboxRepository, sandboxRefusal } from '../scenarios/sandbox.repository.js';
import { AuditRepository } from '../shared/audit.repository.js';
import type { Queryable } from '../shared/db.js';
import { JobHistoryRepository } from '../shared/job-history.repository.js';
import { SymbolsRepository } from '../universes/symbols.repository.js';
import { UniverseSyncRepository } from '../universes/sync.repository.js';
import { UniversesRepository } from '../universes/universes.repository.js';

/** What every store of a schema has: its bars, and one transaction at a time. */
abstract class SchemaStore<Bound> {
  readonly bars: BarsRepository;
  readonly barsReader: BarsReader;

  constructor(
    protected readonly db: Queryable,
    readonly schema: string,
  ) {
    this.bars = new BarsRepository(db, schema);
    this.barsReader = new BarsReader(db, schema);
  }

  /** The same store bound to another connection or transaction. */
  protected abstract bound(db: Queryable): Bound;

  /** Runs `work` in one transaction with a store bound to it; commits when it returns, rolls back when it throws. */
  transaction<T>(work: (tx: Bound) => Promise<T>): Promise<T> {
    return this.db.transaction((trx) => work(this.bound(trx)));
  }
}

/**
 * The schema scenario bars go to: its own `bars` table and the record of which run wrote each
 * symbol. Only what a sandbox holds is reachable here, so production tables cannot be written
 * through it.
 */
export class SandboxStore extends SchemaStore<SandboxStore> {
  readonly sandbox = new SandboxRepository(this.db, this.schema);

  protected bound(db: Queryable): SandboxStore {
    return new SandboxStore(db, this.schema);
  }
}

/**
 * Every table of tickforge's schema behind one repository each, the only code that writes it.
 * Handlers and routes get a store, never the query builder: `store.bars.upsertCopy(…)`,
 * `store.transaction(async (tx) => …)` for work that must commit together. The production
 * store's raw SQL names tables unqualified; they resolve through the connection's search path,
 * which knex sets to this schema (TICKFORGE_DB_SCHEMA).
 */
export class Store extends SchemaStore<Store> {
  readonly symbols = new SymbolsRepository(this.db, this.schema);
  readonly futures = new FuturesRepository(this.db, this.schema);
  readonly universes = new UniversesRepository(this.db, this.schema);
  readonly sync = new UniverseSyncRepository(this.db, this.schema);
  readonly scenarioRuns = new ScenarioRunsRepository(this.db, this.schema);
  readonly jobHistory = new JobHistoryRepository(this.db, this.schema);
  readonly patternDetections = new PatternDetectionsRepository(this.db, this.schema);
  readonly patternAnalytics = new PatternAnalyticsRepository(this.db, this.schema);
  readonly audit = new AuditRepository(this.db);
  /** The sandbox schemas scenario runs created, to list and drop. */
  readonly sandboxes = new SandboxCatalog(this.db, this.schema);

  protected bound(db: Queryable): Store {
    return new Store(db, this.schema);
  }

  /** Why `schema` may not receive scenario bars (it is this production schema, or holds one), or undefined. */
  sandboxRefusal(schema: string): Promise<string | undefined> {
    return sandboxRefusal(this.db, schema, this.schema);
  }

  /** A store of a sandbox schema on the same connection (or transaction). */
  forSchema(schema: string): SandboxStore {
    return new SandboxStore(this.db, schema);
  }
}
