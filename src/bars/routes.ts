import type { Request, Response } from 'express';
import { requireRole, type Tokens } from '../api/auth.js';
import { ApiRouter } from '../api/openapi.js';
import { parseOrThrow } from '../shared/validation.js';
import type { Store } from '../store/store.js';
import { entryText, type BarsCache } from './cache.js';
import { BarsQueryService, barsQuerySchema } from './query.js';

export interface BarsRouterDeps {
  store: Store;
  /** The process's bars cache (listening for bumps, its lookups counted in the web metrics). */
  cache: BarsCache;
}

/**
 * GET /api/bars?symbol&timeframe[&from&to&session&alignment&fill]: bars through the cache
 * (see BarsQueryService for which stored series answers). Every request is tallied for the
 * warm-cache job's "top N requested".
 */
export function barsRouter({ store, cache }: BarsRouterDeps, tokens: Tokens): ApiRouter {
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
      res.status(200).type('application/json').vary('Accept-Encoding');
      // A compressed entry goes out as stored to a client that takes gzip: no work per hit.
      if (answer.body.encoding === 'gzip' && req.acceptsEncodings('gzip') === 'gzip') {
        res.set('Content-Encoding', 'gzip').send(answer.body.data);
      } else {
        res.send(answer.body.encoding === 'gzip' ? await entryText(answer.body) : answer.body.data);
      }
    },
  );
  return routes;
}
