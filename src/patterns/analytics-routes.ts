import type { RedisClient } from '../shared/redis.js';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { requireRole, type Tokens } from '../api/auth.js';
import { ApiRouter } from '../api/openapi.js';
import { isIntraday, timeframeSchema } from '../bars/timeframes.js';
import { tradingDateSchema } from '../shared/calendar.js';
import { NotFoundError, ValidationError } from '../shared/errors.js';
import { parseOrThrow } from '../shared/validation.js';
import type { Store } from '../store/store.js';
import { AnalyticsCache } from './analytics-cache.js';
import { portfolioImpact, type Holding } from './analytics-portfolio.js';
import { customQueryAnswerSchema, customQuerySchema } from './analytics-query.js';
import {
  patternCorrelationsSchema,
  portfolioImpactSchema,
  regimeImpactSchema,
  seasonalPatternSchema,
  successPredictionsSchema,
} from './analytics-schemas.js';
import { analysisScopeSchema, commaList, scopeKey, type AnalysisScope } from './analytics-scope.js';
import { patternKeySchema } from './catalog.js';
import type { AnalysisRecord, SuccessRule } from './analytics.repository.js';
import type { PatternAnalysis } from './analytics.js';

export interface AnalyticsRouterDeps {
  store: Store;
  redis: RedisClient;
  prefix: string;
}

/** The filters of the routes that serve a stored analysis. */
const analysisQuerySchema = analysisScopeSchema
  .omit({ patterns: true })
  .extend({ pattern: commaList(patternKeySchema, 100).optional().describe('pattern keys, comma-separated') })
  .strict();

/** The request of the portfolio route. */
const portfolioQuerySchema = z
  .object({
    symbols: commaList(z.string().min(1), 500).describe('the holdings, comma-separated'),
    weights: commaList(z.coerce.number().positive(), 500).optional().describe('their weights, comma-separated (default equal)'),
    from: tradingDateSchema,
    to: tradingDateSchema,
    timeframe: timeframeSchema.default('1d'),
    horizon: z.coerce.number().int().min(1).max(250).default(5).describe('bars a signal is followed for'),
    pattern: commaList(patternKeySchema, 100).optional(),
    detectorVersion: z.string().min(1).optional(),
  })
  .strict()
  .refine((query) => !query.weights || query.weights.length === query.symbols.length, {
    message: 'give one weight per symbol',
    path: ['weights'],
  })
  .refine((query) => query.from <= query.to, { message: 'from must not be after to', path: ['from'] });

/** What a route answers from a stored analysis: which one, as of when, for what scope. */
const envelope = <T extends z.ZodRawShape>(shape: T) =>
  z.object({
    analysisId: z.number().int(),
    asOf: z.string().describe('the last session the analysis covers'),
    scope: z.record(z.string(), z.unknown()),
    note: z.string().optional().describe('why the result is empty, when it is'),
    ...shape,
  });

const DEFAULT_RULE = { successHorizon: 5, successThreshold: 0, benchmark: 'SPY' };

const describeScope = (scope: AnalysisScope) =>
  Object.entries(scope)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key} ${Array.isArray(value) ? value.join(',') : String(value)}`)
    .join(', ');

/**
 * The /api/analytics routes: the results of the latest stored analysis of a scope, and the
 * portfolio and custom-query answers computed from the tables, all through the cache.
 */
export function analyticsRouter({ store, redis, prefix }: AnalyticsRouterDeps, tokens: Tokens): ApiRouter {
  const cache = new AnalyticsCache(redis, prefix);
  const repository = store.patternAnalytics;
  const routes = new ApiRouter();
  const errors = {
    400: 'a bad filter or an unknown pattern key, named',
    404: 'no analysis of this scope yet; names the analyze-patterns payload that makes one',
  };

  /** The latest analysis of the query's scope, the pattern filter checked against what is known. */
  async function analysisFor(
    query: z.output<typeof analysisQuerySchema>,
  ): Promise<{ record: AnalysisRecord; patterns?: string[] }> {
    const { pattern, ...scope } = query;
    const record =
      (pattern && (await repository.latestAnalysis(scopeKey({ ...scope, patterns: pattern })))) ||
      (await repository.latestAnalysis(scopeKey(scope)));
    if (!record) {
      throw new NotFoundError(
        `no analysis of ${describeScope(scope) || 'the default scope'} yet: POST /api/jobs/analyze-patterns with ${JSON.stringify(scope)}`,
      );
    }
    for (const key of pattern ?? []) {
      const analysed = (record.results as PatternAnalysis).regimeImpact.some((entry) => entry.pattern === key);
      if (!analysed && !(await repository.patternKnown(key))) {
        throw new ValidationError(
          [{ path: 'pattern', message: `unknown pattern key ${key}: no detection of it is stored` }],
          'query',
        );
      }
    }
    return { record, patterns: pattern };
  }

  /** A GET route answering from the stored analysis, through the cache. */
  function stored<T extends z.ZodType>(
    path: string,
    summary: string,
    response: T,
    answer: (analysis: PatternAnalysis, keep: (pattern: string) => boolean) => Record<string, unknown>,
  ): void {
    routes.get(
      path,
      {
        summary,
        role: 'read',
        query: analysisQuerySchema,
        responses: { 200: { description: 'the analysis results', schema: response }, ...errors },
      },
      requireRole('read', tokens),
      async (req: Request, res: Response) => {
        const query = parseOrThrow(analysisQuerySchema, req.query, 'query');
        const { record, patterns } = await analysisFor(query);
        const body = await cache.through(cache.key(path, query, `${record.id}@${record.created_at}`), async () => {
          const keep = (pattern: string) => !patterns || patterns.includes(pattern);
          const results = answer(record.results as PatternAnalysis, keep);
          const empty = Object.values(results).some((value) => Array.isArray(value) && value.length === 0);
          return {
            analysisId: record.id,
            asOf: record.as_of,
            scope: record.scope,
            ...(empty
              ? {
                  note: patterns
                    ? `no result for ${patterns.join(', ')} in this analysis`
                    : 'the analysis found no detection with an outcome',
                }
              : {}),
            ...results,
          };
        });
        res.status(200).type('application/json').send(body);
      },
    );
  }

  stored(
    '/analytics/patterns/correlations',
    'Which patterns follow which, against chance: lift, φ, lag and adjusted p-values per pair',
    envelope({ results: z.array(patternCorrelationsSchema) }),
    (analysis, keep) => ({ results: analysis.correlations.filter((entry) => keep(entry.pattern)) }),
  );
  stored(
    '/analytics/market/regime/impact',
    'Success of each pattern in bull, bear and neutral markets, by volatility and sector, with the best conditions',
    envelope({ results: z.array(regimeImpactSchema) }),
    (analysis, keep) => ({ results: analysis.regimeImpact.filter((entry) => keep(entry.pattern)) }),
  );
  stored(
    '/analytics/patterns/success/predictions',
    'Success probabilities of the latest detections, with the model’s walk-forward accuracy',
    envelope(successPredictionsSchema.shape),
    (analysis, keep) => ({
      ...analysis.predictions,
      predictions: analysis.predictions.predictions.filter((entry) => keep(entry.pattern)),
    }),
  );
  stored(
    '/analytics/seasonal/patterns',
    'Success of each pattern by month, weekday and (intraday) hour, with χ² tests',
    envelope({ results: z.array(seasonalPatternSchema) }),
    (analysis, keep) => ({ results: analysis.seasonal.filter((entry) => keep(entry.pattern)) }),
  );

  /** The outcome rule and benchmark of the newest analysis: what table reads use. */
  async function currentRule(): Promise<{ rule: SuccessRule; benchmark: string }> {
    const settings = { ...DEFAULT_RULE, ...(await repository.latestSettings()) } as typeof DEFAULT_RULE;
    return { rule: { horizon: settings.successHorizon, threshold: settings.successThreshold }, benchmark: settings.benchmark };
  }

  routes.get(
    '/analytics/portfolio/impact',
    {
      summary: 'What the patterns detected in a portfolio implied for it over a range, against buy-and-hold',
      role: 'read',
      query: portfolioQuerySchema,
      responses: {
        200: {
          description: 'the portfolio impact',
          schema: portfolioImpactSchema.extend({ missing: z.array(z.string()).describe('symbols without bars in the range') }),
        },
        400: 'a bad parameter, named',
        404: 'none of the symbols has bars in the range',
      },
    },
    requireRole('read', tokens),
    async (req: Request, res: Response) => {
      const query = parseOrThrow(portfolioQuerySchema, req.query, 'query');
      const version = await repository.latestAnalysisVersion();
      const body = await cache.through(cache.key('portfolio', query, version), async () => {
        const scope: AnalysisScope = {
          timeframe: query.timeframe,
          from: query.from,
          to: query.to,
          patterns: query.pattern,
          detectorVersion: query.detectorVersion,
        };
        const detections = await repository.detectionsOf(scope, query.symbols);
        const holdings: Holding[] = [];
        const missing: string[] = [];
        for (const [k, symbol] of query.symbols.entries()) {
          const bars = await repository.closesBetween(symbol, query.timeframe, query.from, query.to);
          if (bars.length < 2) {
            missing.push(symbol);
            continue;
          }
          const barOf = new Map(bars.map((bar, index) => [bar.ts, index]));
          holdings.push({
            symbol,
            weight: query.weights?.[k] ?? 1,
            close: bars.map((bar) => bar.close),
            detections: detections
              .filter((detection) => detection.symbol === symbol && barOf.has(detection.ts))
              .map((detection) => ({
                bar: barOf.get(detection.ts)!,
                pattern: detection.pattern,
                direction: detection.direction === 'bullish' ? 1 : -1,
              })),
          });
        }
        if (holdings.length === 0) {
          throw new NotFoundError(
            `none of ${query.symbols.join(', ')} has two ${query.timeframe} bars between ${query.from} and ${query.to}`,
          );
        }
        return { ...portfolioImpact(holdings, query.horizon), missing };
      });
      res.status(200).type('application/json').send(body);
    },
  );

  routes.post(
    '/analytics/custom/queries',
    {
      summary: 'A declarative query over detections, outcomes and context: filter, group by one or two dimensions, one metric',
      role: 'read',
      body: customQuerySchema,
      responses: {
        200: { description: 'the groups, largest first', schema: customQueryAnswerSchema },
        400: 'the query breaks its schema; issues name each field',
      },
    },
    requireRole('read', tokens),
    async (req: Request, res: Response) => {
      const query = parseOrThrow(customQuerySchema, req.body, 'query');
      const version = await repository.latestAnalysisVersion();
      const body = await cache.through(cache.key('custom', query, version), async () => {
        let symbols = query.filter.symbols;
        if (query.filter.universe) {
          const members = (await store.universes.members(query.filter.universe, query.filter.to)).map((member) => member.symbol);
          symbols = symbols ? symbols.filter((symbol) => members.includes(symbol)) : members;
        }
        const { rule, benchmark } = await currentRule();
        const intraday = isIntraday(query.filter.timeframe);
        const groups = symbols?.length === 0 ? [] : await repository.customQuery(query, symbols, rule, benchmark, intraday);
        return {
          metric: query.metric,
          groupBy: query.groupBy,
          groups: groups.slice(0, query.limit),
          truncated: groups.length > query.limit,
        };
      });
      res.status(200).type('application/json').send(body);
    },
  );
  return routes;
}
