import type { Request, Response } from 'express';
import { z } from 'zod';
import { requireRole, type Tokens } from '../api/auth.js';
import { ApiRouter, sendJson } from '../api/openapi.js';
import { rangeBoundSchema, resolveRange } from '../bars/ranges.js';
import { SESSION_MODES } from '../bars/sessions.js';
import { timeframeSchema } from '../bars/timeframes.js';
import { NYSE } from '../shared/calendar.js';
import { symbolSchema } from '../shared/symbols.js';
import { parseOrThrow } from '../shared/validation.js';
import type { Store } from '../store/store.js';
import { commaList } from './analytics-scope.js';
import { patternKeySchema } from './catalog.js';

const detectionsQuerySchema = z
  .object({
    symbol: symbolSchema,
    timeframe: timeframeSchema,
    variant: z
      .string()
      .max(64)
      .optional()
      .describe("only the detections on this series variant, as GET /api/bars names it ('' for bars stored as they came)"),
    session: z.enum(SESSION_MODES).default('regular').describe('the clock a date in from/to is read on, as GET /api/bars reads it'),
    from: rangeBoundSchema.optional().describe('date or instant'),
    to: rangeBoundSchema.optional().describe('date (inclusive) or instant (exclusive)'),
    pattern: commaList(patternKeySchema, 100).optional().describe('pattern keys, comma-separated'),
    detectorVersion: z.string().min(1).optional(),
  })
  .strict();

const detectionsSchema = z.object({
  symbol: z.string(),
  timeframe: timeframeSchema,
  detections: z.array(
    z.object({
      ts: z.string().describe("ISO-8601 UTC: the open of the bar the pattern completes on"),
      variant: z.string(),
      pattern: z.string(),
      direction: z.enum(['bullish', 'bearish']),
      strength: z.number(),
      detectorVersion: z.string(),
    }),
  ),
});

/** GET /api/patterns/detections: the stored detections of a symbol's bars, as the console marks them on its candles. */
export function detectionsRouter(store: Store, tokens: Tokens): ApiRouter {
  const routes = new ApiRouter();
  routes.get(
    '/patterns/detections',
    {
      summary: 'The stored pattern detections of one symbol and timeframe over a range, oldest first',
      role: 'read',
      query: detectionsQuerySchema,
      responses: {
        200: { description: 'the detections (none stored is an empty list)', schema: detectionsSchema },
        400: 'a bad parameter or an unknown pattern key, named',
      },
    },
    requireRole('read', tokens),
    async (req: Request, res: Response) => {
      const query = parseOrThrow(detectionsQuerySchema, req.query, 'query');
      const { from, to } = resolveRange(query, query.session, NYSE);
      const rows = await store.patternDetections.list({
        timeframe: query.timeframe,
        symbols: [query.symbol],
        variant: query.variant,
        patterns: query.pattern,
        detectorVersion: query.detectorVersion,
        from,
        to,
      });
      sendJson(res, detectionsSchema, {
        symbol: query.symbol,
        timeframe: query.timeframe,
        detections: rows.map((row) => ({
          ts: row.ts.toISOString(),
          variant: row.variant,
          pattern: row.pattern,
          direction: row.direction,
          strength: row.strength,
          detectorVersion: row.detector_version,
        })),
      });
    },
  );
  return routes;
}
