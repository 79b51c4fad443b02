import type { Request, Response } from 'express';
import { z } from 'zod';
import type { Store } from '../store/store.js';
import { symbolSchema } from '../shared/symbols.js';
import { EXCHANGE_TIME_ZONE, universeKeySchema } from './universes.js';
import type { UniverseRow } from './universes.repository.js';
import { CORRELATION_WINDOWS } from './correlation.js';
import { PERFORMANCE_HISTORY, PERFORMANCE_PERIODS, shiftDate, universePerformance } from './performance.js';
import { localDate, localMidnight } from '../shared/zone.js';
import { calendarDateSchema } from '../shared/dates.js';
import { parseOrThrow } from '../shared/validation.js';
import { requireRole, type Tokens } from '../api/auth.js';
import { NotFoundError } from '../shared/errors.js';
import { ApiRouter, sendJson } from '../api/openapi.js';

const membersQuery = z.object({ asOf: calendarDateSchema.optional() }).strict();

const correlationsQuery = z
  .object({
    window: z.coerce
      .number()
      .refine(
        (value) => (CORRELATION_WINDOWS as readonly number[]).includes(value),
        `must be one of ${CORRELATION_WINDOWS.join(', ')}`,
      )
      .default(CORRELATION_WINDOWS[0]),
    asOf: calendarDateSchema.optional(),
  })
  .strict();

const changesQuery = z
  .object({
    from: calendarDateSchema.optional(),
    to: calendarDateSchema.optional(),
    symbol: symbolSchema.optional(),
    before: z.coerce.number().int('must be a whole number').positive('must be above 0').optional(),
    limit: z.coerce
      .number()
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(10_000, 'must be at most 10000')
      .default(1_000),
  })
  .strict();

const universeSchema = z.object({
  key: z.string(),
  category: z.string(),
  description: z.string(),
  liquidity_filter: z.record(z.string(), z.unknown()),
  metadata: z.record(z.string(), z.unknown()),
  last_universe_update: z.string().nullable().describe('ISO-8601 UTC of the last sync that changed it'),
});

const universesSchema = z.object({
  universes: z.array(
    universeSchema.extend({
      members: z.number().int().describe('current members'),
      flagged: z.number().int().describe('current members with a flag'),
    }),
  ),
});

const memberSchema = z.object({
  symbol: z.string(),
  name: z.string().nullable(),
  kind: z.string(),
  sector: z.string().nullable(),
  market_cap: z.number().nullable(),
  added_at: z.string(),
  removed_at: z.string().nullable(),
  flags: z.record(z.string(), z.unknown()),
});

const membersSchema = universeSchema.extend({
  asOf: z.string().nullable().describe('the date asked for, or null for today'),
  count: z.number().int(),
  members: z.array(memberSchema),
});

const changesSchema = z.object({
  key: z.string(),
  changes: z.array(
    z.object({
      id: z.number().int(),
      trading_date: z.string(),
      run_id: z.string(),
      task: z.string(),
      symbol: z.string(),
      change: z.enum(['added', 'removed', 'updated']),
      reason: z.string(),
      before: z.unknown(),
      after: z.unknown(),
      created_at: z.string(),
    }),
  ),
  next: z.number().int().nullable().describe('pass as `before` for the next page; null on the last page'),
});

const figuresShape = {
  lastDate: z.string().nullable(),
  lastClose: z.number().nullable(),
  returns: z.object(Object.fromEntries(PERFORMANCE_PERIODS.map((period) => [period, z.number().nullable()])) as Record<
    (typeof PERFORMANCE_PERIODS)[number],
    z.ZodNullable<z.ZodNumber>
  >),
  volatility: z.number().nullable(),
  maxDrawdown: z.number().nullable(),
  avgVolume: z.number().nullable(),
};

const performanceSchema = z.object({
  key: z.string(),
  asOf: z.string(),
  members: z.array(z.object({ symbol: z.string(), ...figuresShape })),
  theme: z.object({ ...figuresShape, membersWithBars: z.number().int() }),
});

const correlationsSchema = z.object({
  key: z.string(),
  window: z.number().int(),
  tradingDate: z.string(),
  labels: z.array(z.string()),
  matrix: z.array(z.array(z.number().nullable())),
  observations: z.number().int(),
});

const universeView = <T extends Omit<UniverseRow, 'members' | 'flagged'>>(row: T) => ({
  ...row,
  last_universe_update: row.last_universe_update?.toISOString() ?? null,
});

/**
 * GET /universes, /universes/:key?asOf=, /universes/:key/changes, /universes/:key/performance?asOf=:
 * universes, members at a date, audit trail, performance from stored daily bars.
 */
export function universesRouter(store: Store, tokens: Tokens): ApiRouter {
  const routes = new ApiRouter();
  const universes = store.universes;

  const findUniverse = async (req: Request) => {
    const key = parseOrThrow(universeKeySchema, String(req.params.key), 'universe key');
    const universe = await universes.get(key);
    if (!universe) throw new NotFoundError(`no universe ${key}`);
    return universe;
  };

  const key = { key: 'universe key, such as top_100, sector_energy or etf_growth' };

  routes.get(
    '/universes',
    {
      summary: 'Every universe with its category, filter and member count',
      role: 'read',
      responses: { 200: { description: 'the universes', schema: universesSchema } },
    },
    requireRole('read', tokens),
    async (_req: Request, res: Response) => {
      sendJson(res, universesSchema, { universes: (await universes.list()).map(universeView) });
    },
  );

  routes.get(
    '/universes/:key',
    {
      summary: 'Members of a universe today, or as of a date (survivorship-safe)',
      role: 'read',
      params: key,
      query: membersQuery,
      responses: {
        200: { description: 'the universe and its members', schema: membersSchema },
        400: 'a bad date, named', 404: 'unknown universe',
      },
    },
    requireRole('read', tokens),
    async (req: Request, res: Response) => {
      const query = parseOrThrow(membersQuery, req.query, 'query');
      const universe = await findUniverse(req);
      const members = await universes.members(universe.key, query.asOf);
      sendJson(res, membersSchema, { ...universeView(universe), asOf: query.asOf ?? null, count: members.length, members });
    },
  );

  routes.get(
    '/universes/:key/changes',
    {
      summary: 'The audit trail of a universe: every addition, removal and update with its reason, newest first',
      role: 'read',
      params: key,
      query: changesQuery,
      responses: {
        200: { description: 'a page of changes, newest first', schema: changesSchema },
        400: 'a bad parameter, named',
        404: 'unknown universe',
      },
    },
    requireRole('read', tokens),
    async (req: Request, res: Response) => {
      const query = parseOrThrow(changesQuery, req.query, 'query');
      const universe = await findUniverse(req);
      const changes = await universes.changes(universe.key, query);
      const next = changes.length === query.limit ? changes[changes.length - 1].id : null;
      sendJson(res, changesSchema, {
        key: universe.key,
        changes: changes.map((change) => ({ ...change, created_at: change.created_at.toISOString() })),
        next,
      });
    },
  );

  routes.get(
    '/universes/:key/performance',
    {
      summary:
        'Returns over 1d, 1w, 1m, 3m, YTD and 1y, annualised volatility, maximum drawdown and average volume of each member and of the theme (equal-weighted), from stored daily bars',
      role: 'read',
      params: key,
      query: membersQuery,
      responses: {
        200: { description: 'the figures of each member and of the theme', schema: performanceSchema },
        400: 'a bad date, named',
        404: 'unknown universe',
      },
    },
    requireRole('read', tokens),
    async (req: Request, res: Response) => {
      const query = parseOrThrow(membersQuery, req.query, 'query');
      const universe = await findUniverse(req);
      const asOf = query.asOf ?? localDate(Date.now(), EXCHANGE_TIME_ZONE);
      const symbols = (await universes.members(universe.key, query.asOf)).map((member) => member.symbol);
      const from = new Date(localMidnight(shiftDate(asOf, PERFORMANCE_HISTORY), EXCHANGE_TIME_ZONE));
      const to = new Date(localMidnight(shiftDate(asOf, { days: 1 }), EXCHANGE_TIME_ZONE));
      const rows = await universes.dailyCloses(symbols, from, to);
      sendJson(res, performanceSchema, { key: universe.key, asOf, ...universePerformance(symbols, rows, asOf) });
    },
  );

  routes.get(
    '/universes/:key/correlations',
    {
      summary:
        'The rolling daily-return correlation matrix of an ETF theme (members, the theme index and SPY) stored by the EOD sync for the latest date on or before asOf',
      role: 'read',
      params: key,
      query: correlationsQuery,
      responses: {
        200: { description: 'the stored matrix', schema: correlationsSchema },
        400: 'a bad parameter, named',
        404: 'unknown universe or no matrix stored',
      },
    },
    requireRole('read', tokens),
    async (req: Request, res: Response) => {
      const query = parseOrThrow(correlationsQuery, req.query, 'query');
      const universe = await findUniverse(req);
      const stored = await universes.correlation(universe.key, query.window, query.asOf);
      if (!stored)
        throw new NotFoundError(
          `no ${query.window}-session correlations of ${universe.key} stored${query.asOf ? ` on or before ${query.asOf}` : ''}`,
        );
      sendJson(res, correlationsSchema, {
        key: universe.key,
        window: stored.window,
        tradingDate: stored.trading_date,
        labels: stored.labels,
        matrix: stored.matrix,
        observations: stored.observations,
      });
    },
  );

  return routes;
}
