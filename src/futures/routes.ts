import type { Request, Response } from 'express';
import { z } from 'zod';
import { adjustmentSchema, rollOffsetSchema, rollPolicySchema, rootSchema } from './build-continuous.contract.js';
import type { Store } from '../store/store.js';
import { NYSE } from '../shared/calendar.js';
import { DEFAULT_ROLL_OFFSET, seriesSymbol } from './contract-codes.js';
import { calendarDateSchema } from '../shared/dates.js';
import { localDate, localMidnight } from '../shared/zone.js';
import { parseOrThrow } from '../shared/validation.js';
import { requireRole, type Tokens } from '../api/auth.js';
import { NotFoundError } from '../shared/errors.js';
import { ApiRouter, sendJson } from '../api/openapi.js';

const querySchema = z
  .object({
    roll: rollPolicySchema,
    rollOffset: z
      .string()
      .regex(/^\d{1,3}$/, 'must be a whole number of sessions')
      .transform(Number)
      .pipe(rollOffsetSchema)
      .default(DEFAULT_ROLL_OFFSET),
    adjust: adjustmentSchema,
    from: calendarDateSchema.optional().describe('first session date to return'),
    to: calendarDateSchema.optional().describe('last session date to return'),
  })
  .strict()
  .refine((q) => q.from === undefined || q.to === undefined || q.from <= q.to, {
    message: 'from must not be after to',
    path: ['from'],
  });

const continuousSchema = z.object({
  series: z.string().describe('the series symbol'),
  root: z.string(),
  roll: rollPolicySchema,
  rollOffset: z.number().int(),
  adjust: adjustmentSchema,
  timeframe: z.string(),
  builtAt: z.string(),
  jobId: z.string().nullable(),
  contracts: z.array(z.string()),
  bars: z.array(
    z.object({
      ts: z.string(),
      date: z.string().describe('session date'),
      contract: z.string().describe('the contract held that session'),
      open: z.number(),
      high: z.number(),
      low: z.number(),
      close: z.number(),
      volume: z.number(),
    }),
  ),
  rolls: z.array(
    z.object({
      rollDate: z.string().describe('the first session held in the new contract'),
      referenceDate: z.string().nullable(),
      fromContract: z.string(),
      toContract: z.string(),
      fromClose: z.number().nullable(),
      toClose: z.number().nullable(),
      trigger: z.enum(['calendar', 'volume', 'open_interest', 'forced']),
      difference: z.number().nullable(),
      ratio: z.number().nullable(),
      cumulativeAdjustment: z.number().nullable(),
      issue: z.string().nullable(),
    }),
  ),
});

/** GET /api/futures/:root/continuous — a built continuous series with its roll events. */
export function futuresRouter(store: Store, tokens: Tokens): ApiRouter {
  const routes = new ApiRouter();
  const futures = store.futures;

  routes.get(
    '/futures/:root/continuous',
    {
      summary: 'A built continuous futures series: bars tagged with their contract, and its roll events',
      role: 'read',
      params: { root: 'futures root such as ES' },
      query: querySchema,
      responses: {
        200: { description: 'the series', schema: continuousSchema },
        400: 'a bad parameter, named',
        404: 'not built yet: names the build-continuous payload to run',
      },
    },
    requireRole('read', tokens),
    async (req: Request, res: Response) => {
      const root = parseOrThrow(rootSchema, req.params.root, 'root');
      const query = parseOrThrow(querySchema, req.query, 'query');
      const definition = { root, roll: query.roll, rollOffset: query.rollOffset, adjust: query.adjust };
      const symbol = seriesSymbol(definition.root, definition.roll, definition.rollOffset, definition.adjust);
      const series = await futures.series(symbol);
      if (!series) {
        throw new NotFoundError(
          `continuous series ${symbol} has not been built: run the build-continuous job with ${JSON.stringify(definition)} (POST /api/jobs/build-continuous)`,
        );
      }
      const zone = NYSE.timeZone;
      const [rows, rolls] = await Promise.all([
        futures.dailyBars(
          [symbol],
          query.from === undefined ? undefined : new Date(localMidnight(query.from, zone)),
          query.to === undefined ? undefined : new Date(localMidnight(query.to, zone)),
        ),
        futures.rollEvents(symbol),
      ]);
      let segment = 0;
      const bars = rows.map((row) => {
        const date = localDate(row.ts.getTime(), zone);
        while (segment < rolls.length && rolls[segment].rollDate <= date) segment++;
        return {
          ts: row.ts.toISOString(),
          date,
          contract: segment === 0 ? (rolls[0]?.fromContract ?? series.contracts[0]) : rolls[segment - 1].toContract,
          open: row.open,
          high: row.high,
          low: row.low,
          close: row.close,
          volume: row.volume,
        };
      });
      sendJson(res, continuousSchema, {
        series: symbol,
        ...definition,
        timeframe: series.timeframe,
        builtAt: series.built_at.toISOString(),
        jobId: series.job_id,
        contracts: series.contracts,
        bars,
        rolls,
      });
    },
  );

  return routes;
}
