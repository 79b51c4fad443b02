import type { Request, Response } from 'express';
import { requireRole, type Tokens } from '../api/auth.js';
import type { ComputeRateLimit } from '../api/rate-limit.js';
import { ApiRouter } from '../api/openapi.js';
import { parseOrThrow } from '../shared/validation.js';
import type { Store } from '../store/store.js';
import { entryBytes, type BarsCache } from './cache.js';
import { pipeline } from 'node:stream/promises';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { BAR_FORMATS, CONTENT_TYPES, encodeBars } from './formats.js';
import { BarsQueryService, barsAnswerSchema, barsQuerySchema } from './query.js';

/** GET /api/bars's parameters: the bar query and the format of the answer. */
const barsRequestSchema = barsQuerySchema.extend({ format: z.enum(BAR_FORMATS).default('json') });

/** Bytes of raw query strings whose parsed parameters a router keeps. */
const PARSED_QUERIES_MAX_BYTES = 1024 * 1024;

export interface BarsRouterDeps {
  store: Store;
  /** Limits the answers a token may have computed per minute (cache hits are free). */
  computeLimit: ComputeRateLimit;
  /** The process's bars cache (listening for bumps, its lookups counted in the web metrics). */
  cache: BarsCache;
}

/**
 * GET /api/bars?symbol&timeframe[&from&to&session&alignment&fill&format]: bars through the cache
 * (see BarsQueryService for which stored series answers) as one JSON document, or streamed as
 * NDJSON, CSV or Arrow IPC (not cached). Every request is tallied for the warm-cache job's
 * "top N requested".
 */
export function barsRouter({ store, cache, computeLimit }: BarsRouterDeps, tokens: Tokens): ApiRouter {
  const service = new BarsQueryService(store.barsReader, cache);
  // Parsing is a pure function of the raw query string: a repeated query is validated once.
  const parsedQueries = new LRUCache<string, z.output<typeof barsRequestSchema>>({
    maxSize: PARSED_QUERIES_MAX_BYTES,
    sizeCalculation: (_parsed, raw) => raw.length + 1,
  });
  const parse = (req: Request) => {
    const raw = req.originalUrl.slice(req.originalUrl.indexOf('?') + 1);
    let parsed = parsedQueries.get(raw);
    if (!parsed) {
      parsed = parseOrThrow(barsRequestSchema, req.query, 'query');
      parsedQueries.set(raw, parsed);
    }
    return parsed;
  };
  const routes = new ApiRouter();
  routes.get(
    '/bars',
    {
      summary: 'OHLCV bars of a symbol and timeframe, through the cache: stored aggregates, provider bars, or derived on the fly',
      role: 'read',
      query: barsRequestSchema,
      responses: {
        200: {
          description:
            'json: the answer below; ndjson: a bar per line; csv: a header and a row per bar; arrow: an Arrow IPC stream (X-Bars-Origin and X-Bars-Variant headers)',
          schema: barsAnswerSchema,
          alternatives: Object.values(CONTENT_TYPES),
        },
        304: 'unchanged since the ETag the client holds',
        400: 'a bad parameter, named',
        429: 'this token had CACHE_MISS_RATE_LIMIT answers computed in the last minute; Retry-After says when to retry',
        404: 'nothing stored or derivable; names the aggregate-bars payload to run',
      },
    },
    requireRole('read', tokens),
    async (req: Request, res: Response) => {
      const { format, ...query } = parse(req);
      if (format !== 'json') {
        await Promise.all([computeLimit.charge(req, res), cache.recordRequest(query)]);
        const streamed = await service.stream(query);
        if (!streamed.found) {
          res.status(404).json({ error: streamed.reason });
          return;
        }
        res.status(200).type(CONTENT_TYPES[format]);
        res.set({ 'X-Bars-Origin': streamed.origin, 'X-Bars-Variant': streamed.variant });
        await pipeline(encodeBars(format, streamed.chunks, streamed.withFills), res);
        return;
      }
      const answer = await service.answer(query, () => computeLimit.charge(req, res));
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
        res.send(await entryBytes(answer.body));
      }
    },
  );
  return routes;
}
