/**
 * The declarative queries of `POST /api/analytics/custom/queries`: a filter, one or two
 * dimensions to group by and one metric, checked by a schema. Queries name dimensions and
 * metrics from fixed lists; they never carry SQL.
 */
import { z } from 'zod';
import { timeframeSchema } from '../bars/timeframes.js';
import { patternKeySchema } from './catalog.js';
import { REGIMES, VOLATILITY_REGIMES } from './context.js';

/** What a query can group by. */
export const QUERY_DIMENSIONS = [
  'pattern',
  'symbol',
  'sector',
  'direction',
  'regime',
  'volatilityRegime',
  'detectorVersion',
  'year',
  'month',
  'weekday',
  'hour',
] as const;
export type QueryDimension = (typeof QUERY_DIMENSIONS)[number];

/** What a query can measure per group. */
export const QUERY_METRICS = ['count', 'successRate', 'meanForwardReturn'] as const;
export type QueryMetric = (typeof QUERY_METRICS)[number];

const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD');

/** The body of a custom query. */
export const customQuerySchema = z
  .object({
    filter: z
      .object({
        timeframe: timeframeSchema.default('1d'),
        patterns: z.array(patternKeySchema).min(1).max(100).optional(),
        symbols: z.array(z.string().min(1)).min(1).max(1_000).optional(),
        universe: z.string().min(1).optional(),
        regimes: z.array(z.enum(REGIMES)).min(1).optional(),
        volatilityRegimes: z.array(z.enum(VOLATILITY_REGIMES)).min(1).optional(),
        directions: z
          .array(z.enum(['bullish', 'bearish']))
          .min(1)
          .optional(),
        detectorVersion: z.string().min(1).optional(),
        from: date.optional().describe('first session, inclusive'),
        to: date.optional().describe('last session, inclusive'),
      })
      .strict()
      .default({ timeframe: '1d' }),
    groupBy: z
      .array(z.enum(QUERY_DIMENSIONS))
      .min(1)
      .max(2)
      .refine((dimensions) => new Set(dimensions).size === dimensions.length, 'group by a dimension once'),
    metric: z.enum(QUERY_METRICS),
    /** Groups returned, largest count first. */
    limit: z.number().int().min(1).max(10_000).default(1_000),
  })
  .strict()
  .refine((query) => !query.filter.from || !query.filter.to || query.filter.from <= query.filter.to, {
    message: 'from must not be after to',
    path: ['filter', 'from'],
  });

export type CustomQuery = z.infer<typeof customQuerySchema>;

/** One group of a custom query's answer. */
export const customQueryGroupSchema = z.object({
  key: z.record(z.string(), z.union([z.string(), z.number(), z.null()])).describe('the group, by dimension'),
  value: z.number().nullable().describe('the metric; null when no detection of the group has an outcome yet'),
  count: z.number().int().describe('detections in the group'),
  measured: z.number().int().describe('detections of the group with a known outcome'),
});

export const customQueryAnswerSchema = z.object({
  metric: z.enum(QUERY_METRICS),
  groupBy: z.array(z.enum(QUERY_DIMENSIONS)),
  groups: z.array(customQueryGroupSchema),
  truncated: z.boolean().describe('more groups matched than the limit'),
});

export type CustomQueryAnswer = z.infer<typeof customQueryAnswerSchema>;
