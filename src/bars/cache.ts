import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import type { Result } from 'ioredis';
import type { RedisClient } from '../shared/redis.js';
import { LRUCache } from 'lru-cache';
import type { Config } from '../shared/config.js';
import { TIMEFRAMES, timeframeRank, type Timeframe } from './timeframes.js';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** How many distinct queries the request tally keeps. */
export const MAX_TRACKED_QUERIES = 10_000;

/**
 * How long an answer may be kept depends on what it covers: a range that ended before today
 * (historical), one that reaches into an open NYSE session (market-hours), or anything else.
 */
export type DataClass = 'historical' | 'market-hours' | 'default';

/** Where an answer was found: the process's own memory, or Redis shared by every process. */
export type CacheTier = 'memory' | 'redis';

/** Counters a process hooks into the cache (the web process: lookups per tier; a worker: warmed keys). */
export interface BarsCacheMetrics {
  lookup?(tier: CacheTier, hit: boolean): void;
  warmed?(keys: number): void;
}

/** The cache's limits and lifetimes (the CACHE_* settings). */
export interface BarsCacheOptions {
  ttlSeconds: Record<DataClass, number>;
  /** Bytes of answers the in-process tier holds. */
  memoryMaxBytes: number;
  /** Bytes the Redis tier may use, entries and their index counted; the cache evicts its own entries to stay under. */
  redisMaxBytes: number;
  /** Answers at least this large are gzipped, in both tiers. */
  compressMinBytes: number;
}

/** The defaults of the CACHE_* settings. */
export const DEFAULT_CACHE_OPTIONS: BarsCacheOptions = {
  ttlSeconds: { default: 300, historical: 3_600, 'market-hours': 60 },
  memoryMaxBytes: 64 * 1024 * 1024,
  redisMaxBytes: 256 * 1024 * 1024,
  compressMinBytes: 16 * 1024,
};

/** The cache options a process's settings ask for. */
export function cacheOptions(config: Config): BarsCacheOptions {
  return {
    ttlSeconds: {
      default: config.cacheTtlDefault,
      historical: config.cacheTtlHistorical,
      'market-hours': config.cacheTtlMarketHours,
    },
    memoryMaxBytes: config.cacheMemoryMaxBytes,
    redisMaxBytes: config.cacheRedisMaxBytes,
    compressMinBytes: config.cacheCompressMinBytes,
  };
}

/**
 * A cached answer as stored: its kind ('found' or 'missing') and its bytes, gzipped or not.
 * An entry of the in-process tier also holds a gzipped answer's plain bytes, so neither kind of
 * client costs any compression work on a hit.
 */
export interface CacheEntry {
  kind: string;
  encoding: 'gzip' | 'identity';
  data: Buffer;
  plain?: Buffer;
}

/** The entry's bytes, decompressed (the plain bytes the entry holds, if any). */
export async function entryBytes(entry: CacheEntry): Promise<Buffer> {
  if (entry.encoding === 'identity') return entry.data;
  return entry.plain ?? (await gunzipAsync(entry.data));
}

/** The entry's text (decompressed when needed). */
export async function entryText(entry: CacheEntry): Promise<string> {
  return (await entryBytes(entry)).toString('utf8');
}

/**
 * Redis's own cost of one entry beyond its key and value bytes: the object headers, its member
 * in the expiry index and its field in the sizes hash (measured with MEMORY USAGE, rounded up).
 */
const ENTRY_OVERHEAD_BYTES = 256;

/**
 * Stores an entry within the budget, atomically. Expired entries leave the accounting first,
 * then the entries closest to expiry are evicted until the new one fits; an entry that cannot
 * fit is not stored (returns 0).
 * KEYS: entry, index (zset member → expiry ms), sizes (hash member → bytes), used (bytes).
 * ARGV: value, ttl ms, now ms, budget bytes, cost bytes.
 */
const STORE_SCRIPT = `
local entry, index, sizes, used = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local ttl, now, budget, cost = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local function drop(member)
  local size = tonumber(redis.call('HGET', sizes, member) or '0')
  redis.call('HDEL', sizes, member)
  redis.call('ZREM', index, member)
  redis.call('DEL', member)
  redis.call('DECRBY', used, size)
end
if redis.call('HEXISTS', sizes, entry) == 1 then drop(entry) end
for _, member in ipairs(redis.call('ZRANGEBYSCORE', index, '-inf', now, 'LIMIT', 0, 1000)) do drop(member) end
local total = tonumber(redis.call('GET', used) or '0')
while total + cost > budget do
  local first = redis.call('ZRANGE', index, 0, 0)
  if #first == 0 then break end
  drop(first[1])
  total = tonumber(redis.call('GET', used) or '0')
end
if total + cost > budget then return 0 end
redis.call('SET', entry, ARGV[1], 'PX', ttl)
redis.call('ZADD', index, now + ttl, entry)
redis.call('HSET', sizes, entry, cost)
redis.call('INCRBY', used, cost)
return 1
`;

/**
 * Reads the versions of several lookups and counts their requests, in one command: per lookup,
 * its symbol's versions of its timeframes, and `count` more requests of its query in the tally,
 * which keeps its `limit` most requested queries (a query new to the tally may push the least
 * requested out).
 * KEYS: the tally (zset), then each lookup's versions (hash).
 * ARGV: limit, then per lookup: the query's canonical JSON, count, the number of timeframes, the timeframes.
 */
const LOOKUP_SCRIPT = `
local limit = tonumber(ARGV[1])
local found = {}
local at = 2
for i = 2, #KEYS do
  local requested, count, timeframes = ARGV[at], tonumber(ARGV[at + 1]), tonumber(ARGV[at + 2])
  found[i - 1] = redis.call('HMGET', KEYS[i], unpack(ARGV, at + 3, at + 2 + timeframes))
  if tonumber(redis.call('ZINCRBY', KEYS[1], count, requested)) == count then
    redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(limit + 1))
  end
  at = at + 3 + timeframes
end
return found
`;

/** Lookups of one query waiting for the next lookup command. */
interface PendingLookup {
  versionsKey: string;
  timeframes: readonly Timeframe[];
  waiting: Array<{ resolve: (versions: Array<string | null>) => void; reject: (error: unknown) => void }>;
}

/**
 * Bytes Redis's allocator (jemalloc) hands out for a value of this length: sizes round up to a
 * class, four classes per doubling, so a value can take up to a quarter more than its length.
 */
function allocatedBytes(length: number): number {
  if (length <= 16) return 16;
  const step = 2 ** Math.max(0, Math.floor(Math.log2(length - 1)) - 2);
  return Math.ceil(length / step) * step;
}

/** Stored in Redis as one header line (`kind encoding`) and the data. */
function encodeEntry(entry: CacheEntry): Buffer {
  return Buffer.concat([Buffer.from(`${entry.kind} ${entry.encoding}\n`), entry.data]);
}

function decodeEntry(stored: Buffer): CacheEntry | undefined {
  const newline = stored.indexOf(10);
  const [kind, encoding] = stored.subarray(0, newline).toString('latin1').split(' ');
  if (newline < 0 || (encoding !== 'gzip' && encoding !== 'identity')) return undefined;
  return { kind, encoding, data: stored.subarray(newline + 1) };
}

/**
 * The cache of bar queries, in two tiers: a bounded LRU in the process's memory in front of
 * Redis, both holding the answer as it is sent (gzipped above a size), so a hit costs no
 * encoding. Per symbol and timeframe a version that every committed write bumps; answers are
 * cached under keys that include the versions they were computed from. Keys live under
 * `${prefix}:bars-cache:`.
 *
 * A read after a write is never stale: the writer bumps after its commit, and every lookup reads
 * the current versions from Redis first, so any reader that starts later builds a new key and
 * misses in both tiers. The bump is also published on `${prefix}:bars-cache:changed`, on which
 * every web process drops its in-memory answers of that symbol at once.
 *
 * Redis memory is bounded by the cache itself: every entry's bytes are counted in an index,
 * and storing an entry first evicts the cache's own entries (nearest expiry first) until it
 * fits `redisMaxBytes`; an entry larger than a quarter of the budget is kept in memory only.
 * The queues sharing that Redis never see it fill up.
 */
export class BarsCache {
  private readonly root: string;
  private readonly options: BarsCacheOptions;
  readonly metrics: BarsCacheMetrics;
  /** Absent when memoryMaxBytes is 0. */
  private readonly memory?: LRUCache<string, CacheEntry & { symbol: string }>;
  private listener?: RedisClient;
  /** Counted lookups waiting for the next lookup command, by query. */
  private readonly pendingLookups = new Map<string, PendingLookup>();
  private lookupInFlight = false;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
    options: Partial<BarsCacheOptions> & { metrics?: BarsCacheMetrics } = {},
  ) {
    this.root = `${prefix}:bars-cache`;
    const { metrics, ...rest } = options;
    this.options = { ...DEFAULT_CACHE_OPTIONS, ...rest };
    this.metrics = metrics ?? {};
    if (this.options.memoryMaxBytes > 0) {
      this.memory = new LRUCache({
        maxSize: this.options.memoryMaxBytes,
        maxEntrySize: Math.max(1, Math.floor(this.options.memoryMaxBytes / 4)),
        sizeCalculation: (entry, key) => entry.data.length + (entry.plain?.length ?? 0) + key.length,
      });
    }
    this.redis.defineCommand('tickforgeCacheStore', { numberOfKeys: 4, lua: STORE_SCRIPT });
    this.redis.defineCommand('tickforgeCacheLookup', { lua: LOOKUP_SCRIPT });
  }

  private versionsKey(symbol: string): string {
    return `${this.root}:versions:${symbol}`;
  }

  /** The pub/sub channel bumps are announced on. */
  get channel(): string {
    return `${this.root}:changed`;
  }

  /**
   * Subscribes on `listener` (a subscriber connection of its own, closed with the cache) to the
   * bumps of every process, dropping this process's in-memory answers of a symbol as soon as any
   * process bumps it.
   */
  async listen(listener: RedisClient): Promise<void> {
    if (this.listener) return;
    listener.on('error', () => {
      // ioredis reconnects; lookups read versions from Redis, so a missed message never serves stale data.
    });
    listener.on('message', (_channel: string, symbol: string) => this.forget(symbol));
    this.listener = listener;
    await listener.subscribe(this.channel);
  }

  /** Stops listening for bumps. */
  async close(): Promise<void> {
    const listener = this.listener;
    this.listener = undefined;
    if (!listener) return;
    await listener.quit().catch(() => listener.disconnect());
  }

  /** Drops the in-memory answers of a symbol. */
  private forget(symbol: string): void {
    if (!this.memory) return;
    for (const [key, entry] of this.memory.entries()) if (entry.symbol === symbol) this.memory.delete(key);
  }

  /** Marks a symbol's bars of these timeframes as changed. Call after the write is committed. */
  async bump(symbol: string, timeframes: Timeframe | readonly Timeframe[]): Promise<void> {
    const list = typeof timeframes === 'string' ? [timeframes] : timeframes;
    if (list.length === 0) return;
    const pipeline = this.redis.multi();
    for (const timeframe of new Set(list)) pipeline.hincrby(this.versionsKey(symbol), timeframe, 1);
    pipeline.publish(this.channel, symbol);
    await pipeline.exec();
    this.forget(symbol);
  }

  /**
   * The versions an answer for `timeframe` depends on: its own and every finer timeframe's
   * (it may be derived from them), as a compact string for the cache key. With `requested` (a
   * query's canonical JSON), also counts one request of it, as recordRequest does, in the same
   * command.
   *
   * Counted lookups share commands: while one is in flight, the lookups that arrive wait and go
   * together in the next, which Redis runs after they arrived. So each lookup still reads the
   * versions as they are after it began, whatever writes committed and bumped before.
   */
  async versionTag(symbol: string, timeframe: Timeframe, requested?: string): Promise<string> {
    const upTo = TIMEFRAMES.slice(0, timeframeRank(timeframe) + 1);
    const versions =
      requested === undefined
        ? await this.redis.hmget(this.versionsKey(symbol), ...upTo)
        : await new Promise<Array<string | null>>((resolve, reject) => {
            let pending = this.pendingLookups.get(requested);
            if (!pending) {
              pending = { versionsKey: this.versionsKey(symbol), timeframes: upTo, waiting: [] };
              this.pendingLookups.set(requested, pending);
            }
            pending.waiting.push({ resolve, reject });
            if (!this.lookupInFlight) this.sendLookups();
          });
    return versions.map((version) => version ?? '0').join('.');
  }

  /** Sends every waiting lookup in one command; when it answers, sends those that arrived meanwhile. */
  private sendLookups(): void {
    const batch = [...this.pendingLookups];
    this.pendingLookups.clear();
    const keys: string[] = [this.requestsKey()];
    const args: Array<string | number> = [MAX_TRACKED_QUERIES];
    for (const [requested, { versionsKey, timeframes, waiting }] of batch) {
      keys.push(versionsKey);
      args.push(requested, waiting.length, timeframes.length, ...timeframes);
    }
    this.lookupInFlight = true;
    this.redis
      .tickforgeCacheLookup(keys.length, ...keys, ...args)
      .then(
        (found) => batch.forEach(([, { waiting }], i) => waiting.forEach(({ resolve }) => resolve(found[i]))),
        (error: unknown) => batch.forEach(([, { waiting }]) => waiting.forEach(({ reject }) => reject(error))),
      )
      .finally(() => {
        this.lookupInFlight = false;
        if (this.pendingLookups.size > 0) this.sendLookups();
      });
  }

  /** The cache key of a query (any JSON-able description) at the given version tag. */
  key(query: unknown, versionTag: string): string {
    const digest = createHash('sha256').update(JSON.stringify(query)).update('\n').update(versionTag).digest('base64url');
    return `${this.root}:answer:${digest}`;
  }

  /** The entry this process's memory holds under the key (counted as a lookup of the memory tier). */
  inMemory(key: string): CacheEntry | undefined {
    if (!this.memory) return undefined;
    const local = this.memory.get(key);
    this.metrics.lookup?.('memory', local !== undefined);
    return local;
  }

  /** The entry Redis holds under the key, then kept in memory too (counted as a lookup of the Redis tier). */
  async fromRedis(key: string, symbol: string): Promise<CacheEntry | undefined> {
    const [stored, ttl] = await Promise.all([this.redis.getBuffer(key), this.redis.pttl(key)]);
    const found = stored ? decodeEntry(stored) : undefined;
    this.metrics.lookup?.('redis', found !== undefined);
    if (!found) return undefined;
    const entry = this.memory && found.encoding === 'gzip' ? { ...found, plain: await gunzipAsync(found.data) } : found;
    if (ttl > 0) this.memory?.set(key, { ...entry, symbol }, { ttl });
    return entry;
  }

  /** Whether an answer is cached under the key in Redis (does not count as a hit or miss). */
  async has(key: string): Promise<boolean> {
    return (await this.redis.exists(key)) === 1;
  }

  /**
   * Caches an answer of this kind for its data class, gzipped when large, in both tiers; returns
   * the entry as stored.
   */
  async set(key: string, symbol: string, kind: string, text: string, dataClass: DataClass): Promise<CacheEntry> {
    const raw = Buffer.from(text, 'utf8');
    const entry: CacheEntry =
      raw.length >= this.options.compressMinBytes
        ? { kind, encoding: 'gzip', data: await gzipAsync(raw), plain: raw }
        : { kind, encoding: 'identity', data: raw };
    const ttl = this.options.ttlSeconds[dataClass] * 1_000;
    this.memory?.set(key, { ...entry, symbol }, { ttl });
    const value = encodeEntry(entry);
    const cost = allocatedBytes(value.length) + 3 * key.length + ENTRY_OVERHEAD_BYTES;
    if (cost <= this.options.redisMaxBytes / 4) {
      await this.redis.tickforgeCacheStore(
        key,
        `${this.root}:index`,
        `${this.root}:sizes`,
        `${this.root}:used`,
        value,
        ttl,
        Date.now(),
        this.options.redisMaxBytes,
        cost,
      );
    }
    return entry;
  }

  /** Bytes the Redis tier counts against its budget, and those held in this process's memory. */
  async usage(): Promise<{ redisBytes: number; memoryBytes: number }> {
    return {
      redisBytes: Number((await this.redis.get(`${this.root}:used`)) ?? 0),
      memoryBytes: this.memory?.calculatedSize ?? 0,
    };
  }

  private requestsKey(): string {
    return `${this.root}:requests`;
  }

  /**
   * Counts one request of a query (its canonical JSON), for "warm the N most requested". Only
   * the most requested MAX_TRACKED_QUERIES are kept, so the tally cannot grow without bound.
   */
  async recordRequest(query: unknown): Promise<void> {
    await this.redis
      .multi()
      .zincrby(this.requestsKey(), 1, JSON.stringify(query))
      .zremrangebyrank(this.requestsKey(), 0, -(MAX_TRACKED_QUERIES + 1))
      .exec();
  }

  /** The `n` most requested queries, most requested first, with their counts. */
  async topRequested(n: number): Promise<Array<{ query: unknown; requests: number }>> {
    const flat = await this.redis.zrevrange(this.requestsKey(), 0, n - 1, 'WITHSCORES');
    const out: Array<{ query: unknown; requests: number }> = [];
    for (let i = 0; i < flat.length; i += 2) out.push({ query: JSON.parse(flat[i]) as unknown, requests: Number(flat[i + 1]) });
    return out;
  }
}

declare module 'ioredis' {
  interface RedisCommander<Context> {
    tickforgeCacheStore(
      entry: string,
      index: string,
      sizes: string,
      used: string,
      value: Buffer,
      ttlMs: number,
      nowMs: number,
      budget: number,
      cost: number,
    ): Result<number, Context>;
    tickforgeCacheLookup(
      numberOfKeys: number,
      ...keysAndArgs: Array<string | number>
    ): Result<Array<Array<string | null>>, Context>;
  }
}
