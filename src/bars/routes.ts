import type { IncomingMessage } from 'node:http';
import type { Request, Response } from 'express';
import { acceptsGzip, type CachedRoute } from '../api/cached-route.js';
import { requireRole, type Tokens } from '../api/auth.js';
import type { ComputeRateLimit } from '../api/rate-limit.js';
import { ApiRouter } from '../api/openapi.js';
import { parseOrThrow } from '../shared/validation.js';
import type { Store } from '../store/store.js';
import { entryBytes, type BarsCache, type CacheEntry } from './cache.js';
import { pipeline } from 'node:stream/promises';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { BAR_FORMATS, CONTENT_TYPES, encodeBars, type BarFormat } from './formats.js';
import { BarsQueryService, barsAnswerSchema, barsQuerySchema, type BarsQuery, type CacheLookup } from './query.js';

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

/** A request's parameters as the route uses them: the query, its canonical JSON and the format. */
interface ParsedRequest {
  query: BarsQuery;
  requested: string;
  format: BarFormat;
}

/** GET /api/bars: its Express route, and its cache hits answered before Express. */
export interface BarsRoutes {
  api: ApiRouter;
  hits: CachedRoute;
}

/**
 * GET /api/bars?symbol&timeframe[&from&to&session&alignment&fill&format]: bars through the cache
 * (see BarsQueryService for which stored series answers) as one JSON document, or streamed as
 * NDJSON, CSV or Arrow IPC (not cached). Every request is tallied for the warm-cache job's
 * "top N requested".
 *
 * A JSON answer this process holds in memory, to a client that holds no ETag, is answered from
 * the bytes as cached before Express (`hits`); every other request of the route goes through
 * Express, with the lookup the hit path already made when it made one.
 */
export function barsRoutes({ store, cache, computeLimit }: BarsRouterDeps, tokens: Tokens): BarsRoutes {
  const service = new BarsQueryService(store.barsReader, cache);
  // Parsing is a pure function of the raw query string: a repeated query is validated once.
  const parsedQueries = new LRUCache<string, ParsedRequest>({
    maxSize: PARSED_QUERIES_MAX_BYTES,
    sizeCalculation: (parsed, raw) => raw.length + parsed.requested.length + 1,
  });
  const parse = (req: Request): ParsedRequest => {
    const raw = req.originalUrl.slice(req.originalUrl.indexOf('?') + 1);
    let parsed = parsedQueries.get(raw);
    if (!parsed) {
      const { format, ...query } = parseOrThrow(barsRequestSchema, req.query, 'query');
      parsed = { query, requested: JSON.stringify(query), format };
      parsedQueries.set(raw, parsed);
    }
    return parsed;
  };
  // Lookups the hit path made, for the requests it leaves to Express: a request is looked up and counted once.
  const lookups = new WeakMap<IncomingMessage, Promise<CacheLookup>>();
  const hits: CachedRoute = {
    path: '/api/bars',
    role: 'read',
    answer(req, rawQuery) {
      const parsed = parsedQueries.get(rawQuery);
      if (parsed?.format !== 'json') return undefined;
      const looked = service.lookup(parsed.query, parsed.requested);
      // Whatever the hit path leaves to Express (a miss, a failed lookup) goes on from this lookup.
      lookups.set(req, looked);
      return looked.then((lookup) => {
        const entry = BarsQueryService.foundInMemory(lookup);
        const ready = entry !== undefined && req.headers['if-none-match'] === undefined ? readyBytes(entry, req) : undefined;
        if (ready === undefined) return undefined;
        const headers = ['Content-Type', JSON_TYPE, 'ETag', etagOf(lookup.key), 'Vary', 'Accept-Encoding'];
        return { headers: ready.gzip ? [...headers, 'Content-Encoding', 'gzip'] : headers, body: ready.body };
      });
    },
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
      const { format, query } = parse(req);
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
      const answer = await service.answer(query, () => computeLimit.charge(req, res), await lookups.get(req));
      if (!answer.found) {
        res.status(404).json({ error: answer.reason });
        return;
      }
      // The cache key names the versions the answer was built from: a client's copy is current
      // while it matches (Express answers 304 to a matching If-None-Match).
      res.set('ETag', etagOf(answer.key));
      res.status(200).type(JSON_TYPE).vary('Accept-Encoding');
      const ready = readyBytes(answer.body, req) ?? { body: await entryBytes(answer.body), gzip: false };
      if (ready.gzip) res.set('Content-Encoding', 'gzip');
      res.send(ready.body);
    },
  );
  return { api: routes, hits };
}

/**
 * An answer's bytes as the request takes them, with no compression work: a gzipped entry as
 * stored to a client that takes gzip, else the plain bytes the entry holds; undefined when only
 * decompressing would give them.
 */
function readyBytes(entry: CacheEntry, req: IncomingMessage): { body: Buffer; gzip: boolean } | undefined {
  if (entry.encoding === 'identity') return { body: entry.data, gzip: false };
  if (acceptsGzip(req)) return { body: entry.data, gzip: true };
  return entry.plain === undefined ? undefined : { body: entry.plain, gzip: false };
}

/** What Express's `type('application/json')` sets. */
const JSON_TYPE = 'application/json; charset=utf-8';

/** The ETag of an answer: the digest its cache key ends with. */
const etagOf = (key: string) => `"${key.slice(key.lastIndexOf(':') + 1)}"`;
