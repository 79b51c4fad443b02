import pg from 'pg';

/** What a statement does, by its first keyword: the label PostgreSQL query times are grouped by. */
export type QueryKind = 'select' | 'insert' | 'update' | 'delete' | 'copy' | 'transaction' | 'ddl' | 'other';

const KINDS: Record<string, QueryKind> = {
  select: 'select',
  with: 'select',
  insert: 'insert',
  update: 'update',
  delete: 'delete',
  copy: 'copy',
  begin: 'transaction',
  commit: 'transaction',
  rollback: 'transaction',
  savepoint: 'transaction',
  release: 'transaction',
  create: 'ddl',
  alter: 'ddl',
  drop: 'ddl',
  truncate: 'ddl',
};

/** The kind of a SQL statement. */
export function queryKind(sql: string): QueryKind {
  const keyword = /^\s*(?:\(\s*)*([a-z]+)/i.exec(sql)?.[1]?.toLowerCase() ?? '';
  return KINDS[keyword] ?? 'other';
}

/** Told of every statement the pg driver ran in this process: its kind, how long it took and whether it failed. */
export type QueryObserver = (kind: QueryKind, durationMs: number, failed: boolean) => void;

type Callback = (error: unknown, result: unknown) => void;
interface Submittable {
  submit: unknown;
  text?: string;
  handleError?: (...args: unknown[]) => unknown;
  once?: (event: string, listener: () => void) => unknown;
}

const observers = new Set<QueryObserver>();
let installed = false;

/**
 * Times every statement at the driver: `pg.Client#query` is the one door every query of the
 * process goes through — knex's, COPY streams', raw clients' — so no call site needs to know.
 * Returns a function that stops this observer.
 */
export function observeQueries(observer: QueryObserver): () => void {
  observers.add(observer);
  if (!installed) install();
  return () => observers.delete(observer);
}

function install(): void {
  installed = true;
  const prototype = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const query = prototype.query;
  prototype.query = function timedQuery(this: pg.Client, config: unknown, values?: unknown, callback?: unknown) {
    const started = performance.now();
    const text = typeof config === 'string' ? config : ((config as { text?: string } | null)?.text ?? '');
    const kind = queryKind(text);
    let settled = false;
    const done = (failed: boolean) => {
      if (settled) return;
      settled = true;
      const duration = performance.now() - started;
      for (const observer of observers) observer(kind, duration, failed);
    };
    const submittable = config as Submittable | null;
    if (submittable && typeof submittable.submit === 'function') {
      // COPY streams and cursors: done when they end; pg reports their errors through handleError.
      const handleError = submittable.handleError;
      if (handleError) {
        submittable.handleError = function (this: unknown, ...args: unknown[]) {
          done(true);
          return handleError.apply(this, args);
        };
      }
      submittable.once?.('end', () => done(false));
      submittable.once?.('finish', () => done(false));
      return query.call(this, config, values, callback);
    }
    const timed =
      (original: Callback): Callback =>
      (error, result) => {
        done(Boolean(error));
        original(error, result);
      };
    if (typeof values === 'function') return query.call(this, config, timed(values as Callback));
    if (typeof callback === 'function') return query.call(this, config, values, timed(callback as Callback));
    return (query.call(this, config, values) as Promise<unknown>).then(
      (result) => {
        done(false);
        return result;
      },
      (error: unknown) => {
        done(true);
        throw error;
      },
    );
  };
}
