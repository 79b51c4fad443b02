import type { Request, Response } from 'express';
import type { RedisClient } from '../shared/redis.js';
import { requireRole, type Tokens } from '../api/auth.js';
import type { WebMetrics } from '../api/metrics.js';
import { ApiRouter } from '../api/openapi.js';
import { parseOrThrow } from '../shared/validation.js';
import type { Store } from '../store/store.js';
import { BarsCache } from './cache.js';
import { BarsQueryService, barsQuerySchema } from './query.js';

export interface BarsRouterDeps {
  store: Store;
  redis: RedisClient;
  prefix: string;
  metrics: WebMetrics;
}

/**
 * GET /api/bars?symbol&timeframe[&from&to&session&alignment&fill]: bars through the cache
 * (see BarsQueryService for which stored series answers). Every request is tallied for the
 * warm-cache job's "top N requested".
 */
export function barsRouter({ store, redis, prefix, metrics }: BarsRouterDeps, tokens: Tokens): ApiRouter {
  const cache = new BarsCache(redis, prefix, {
    hit: () => metrics.barsCache.inc({ result: 'hit' }),
    miss: () => metrics.barsCache.inc({ result: 'miss' }),
  });
  const service = new BarsQueryService(store.barsReader, cache);
  const routes = new ApiRouter();
  routes.get(
    '/bars',
    {
      summary: 'OHLCV bars of a symbol and timeframe, through the cache: stored aggregates, provider bars, or derived on the fly',
      role: 'read',
      query: barsQuerySchema,
      responses: {
        200: '{symbol, timeframe, origin, bars}',
        304: 'unchanged since the ETag the client holds',
        400: 'a bad parameter, named',
        404: 'nothing stored or derivable; names the aggregate-bars payload to run',
      },
    },
    requireRole('read', tokens),
    async (req: Request, res: Response) => {
      const query = parseOrThrow(barsQuerySchema, req.query, 'query');
      const [answer] = await Promise.all([service.answer(query), cache.recordRequest(query)]);
      if (!answer.found) {
        res.status(404).json({ error: answer.reason });
        return;
      }
      // The cache key names the versions the answer was built from: a client's copy is current
      // while it matches (Express answers 304 to a matching If-None-Match).
      res.set('ETag', `"${answer.key.slice(answer.key.lastIndexOf(':') + 1)}"`);
      res.status(200).type('application/json').send(answer.body);
    },
  );
  return routes;
}
