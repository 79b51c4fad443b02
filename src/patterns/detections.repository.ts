import type { SeriesKey } from '../bars/columns.js';
import { requireTransaction, type Queryable } from '../shared/db.js';

/** One stored detection. */
export interface DetectionRow {
  symbol: string;
  timeframe: string;
  variant: string;
  /** The bar's open instant. */
  ts: Date;
  pattern: string;
  detector_version: string;
  direction: 'bullish' | 'bearish';
  strength: number;
  job_id: string | null;
}

/** Which detections to read. */
export interface DetectionQuery {
  timeframe: string;
  symbols?: string[];
  /** Only detections on this series variant. */
  variant?: string;
  patterns?: string[];
  detectorVersion?: string;
  /** Bars with ts in [from, to) (epoch ms). */
  from?: number;
  to?: number;
}

/** Rows inserted per statement: well under PostgreSQL's 65,535 bind parameters. */
const INSERT_ROWS = 5_000;

/** pattern_detections: the only code that writes it. */
export class PatternDetectionsRepository {
  constructor(
    private readonly db: Queryable,
    readonly schema: string,
  ) {}

  private table() {
    return this.db.withSchema(this.schema).table('pattern_detections');
  }

  /**
   * Makes the stored detections of one series in [from, to), for the given patterns at their
   * versions, exactly `rows`: each row is upserted (stamped with the transaction's time), then
   * what those detectors no longer find there is removed. Inside a transaction, so a reader never
   * sees a series half-replaced and the stamp tells this run's rows from older ones.
   */
  async replace(
    series: SeriesKey,
    range: { from: number; to: number },
    detectors: ReadonlyArray<{ pattern: string; version: string }>,
    rows: readonly DetectionRow[],
  ): Promise<{ written: number; removed: number }> {
    const trx = requireTransaction(this.db, 'replacing pattern detections');
    for (let start = 0; start < rows.length; start += INSERT_ROWS) {
      await trx
        .withSchema(this.schema)
        .table('pattern_detections')
        .insert(rows.slice(start, start + INSERT_ROWS).map((row) => ({ ...row, detected_at: trx.fn.now() })))
        .onConflict(['symbol', 'timeframe', 'variant', 'ts', 'pattern', 'detector_version'])
        .merge(['direction', 'strength', 'job_id', 'detected_at']);
    }
    const removed = await trx
      .withSchema(this.schema)
      .table('pattern_detections')
      .where({ symbol: series.symbol, timeframe: series.timeframe, variant: series.variant })
      .where('ts', '>=', new Date(range.from))
      .where('ts', '<', new Date(range.to))
      .where((clause) => {
        for (const { pattern, version } of detectors) clause.orWhere({ pattern, detector_version: version });
      })
      .whereNot('detected_at', trx.fn.now())
      .delete();
    return { written: rows.length, removed };
  }

  /** Stored detections, ordered by symbol, ts and pattern. */
  async list(query: DetectionQuery): Promise<DetectionRow[]> {
    const select = this.table()
      .select('symbol', 'timeframe', 'variant', 'ts', 'pattern', 'detector_version', 'direction', 'strength', 'job_id')
      .where({ timeframe: query.timeframe })
      .orderBy(['symbol', 'ts', 'pattern', 'detector_version']);
    if (query.symbols) select.whereIn('symbol', query.symbols);
    if (query.variant !== undefined) select.where({ variant: query.variant });
    if (query.patterns) select.whereIn('pattern', query.patterns);
    if (query.detectorVersion !== undefined) select.where({ detector_version: query.detectorVersion });
    if (query.from !== undefined) select.where('ts', '>=', new Date(query.from));
    if (query.to !== undefined) select.where('ts', '<', new Date(query.to));
    return select as Promise<DetectionRow[]>;
  }
}
