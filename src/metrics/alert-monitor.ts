import type { RedisClient } from '../shared/redis.js';
import { AlertEngine, type Alert, type AlertTransition } from './alert-engine.js';
import { evaluateRules, type AlertThresholds, type MonitoringSnapshot } from './alert-rules.js';

/** How many resolved and fired transitions GET /api/system/alerts lists. */
export const RECENT_ALERTS = 200;

const keys = (prefix: string) => ({
  leader: `${prefix}:alerts:leader`,
  active: `${prefix}:alerts:active`,
  recent: `${prefix}:alerts:recent`,
});

// Renews the lease only while this process holds it, so a process that lost it never takes it back by renewing.
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

const STOP_GRACE_MS = 2_000;

/** Waits for `promise` (whatever it settles to) for at most `ms`. */
async function within(ms: number, promise: Promise<unknown> | undefined): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.resolve(promise).catch(() => undefined),
    new Promise((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}

export interface AlertMonitorOptions {
  redis: RedisClient;
  prefix: string;
  /** This process (`role:host:pid`): the holder of the evaluation lease. */
  instance: string;
  intervalMs: number;
  thresholds: AlertThresholds;
  /** Reads what the rules look at; a part it could not read is left undefined. */
  gather: () => Promise<MonitoringSnapshot>;
  /** Announces a transition (tickstock.advanced.performance_alert); called after it is stored. */
  announce: (transition: AlertTransition) => Promise<void>;
  /** Told about an evaluation that failed; the next one runs on schedule. */
  onError: (error: unknown) => void;
}

/** A stored transition, as GET /api/system/alerts lists it. */
export type RecordedTransition = AlertTransition & { at: string };

/**
 * Evaluates the alert rules every interval in exactly one process: the holder of a lease in
 * Redis (renewed each evaluation, expiring after three intervals without one), so several
 * schedulers can run and a new one takes over when the holder dies. The active alerts live
 * in Redis, so the holder that takes over neither fires them again nor forgets to resolve them.
 */
export class AlertMonitor {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(private readonly options: AlertMonitorOptions) {}

  start(): void {
    const tick = () => {
      this.running = this.tick().catch(this.options.onError);
    };
    tick();
    this.timer = setInterval(tick, this.options.intervalMs);
    this.timer.unref();
  }

  /**
   * Stops evaluating and hands the lease back so another process takes over at once. Neither
   * step may hold up a shutdown: an evaluation or the release waiting on a reconnecting Redis
   * gets two seconds, and an unreleased lease simply expires.
   */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    const { redis, prefix, instance } = this.options;
    await within(STOP_GRACE_MS, this.running);
    await within(STOP_GRACE_MS, redis.eval(RELEASE, 1, keys(prefix).leader, instance));
  }

  /** Whether this process holds the lease after trying to take or renew it. */
  async lead(): Promise<boolean> {
    const { redis, prefix, instance, intervalMs } = this.options;
    const lease = String(3 * intervalMs);
    if ((await redis.set(keys(prefix).leader, instance, 'PX', lease, 'NX')) === 'OK') return true;
    return (await redis.eval(RENEW, 1, keys(prefix).leader, instance, lease)) === 1;
  }

  private async tick(): Promise<void> {
    if (await this.lead()) await this.evaluate();
  }

  /** One evaluation: gather, compare with the stored active alerts, store and announce the changes. */
  async evaluate(now = new Date()): Promise<AlertTransition[]> {
    const { redis, prefix } = this.options;
    const key = keys(prefix);
    const engine = new AlertEngine(await activeAlerts(redis, prefix));
    const snapshot = await this.options.gather();
    const transitions = engine.evaluate(evaluateRules(snapshot, this.options.thresholds), now);
    const transaction = redis.multi().del(key.active);
    for (const alert of engine.active()) transaction.hset(key.active, alert.id, JSON.stringify(alert));
    for (const transition of transitions) {
      const recorded: RecordedTransition = { ...transition, at: now.toISOString() };
      transaction.lpush(key.recent, JSON.stringify(recorded));
    }
    transaction.ltrim(key.recent, 0, RECENT_ALERTS - 1);
    await transaction.exec();
    for (const transition of transitions) await this.options.announce(transition);
    return transitions;
  }
}

/** The active alerts, oldest first. */
export async function activeAlerts(redis: RedisClient, prefix: string): Promise<Alert[]> {
  const stored = Object.values(await redis.hgetall(keys(prefix).active)).map((text) => JSON.parse(text) as Alert);
  return stored.sort((a, b) => a.since.localeCompare(b.since));
}

/** The latest transitions, newest first. */
export async function recentTransitions(redis: RedisClient, prefix: string, limit = RECENT_ALERTS): Promise<RecordedTransition[]> {
  return (await redis.lrange(keys(prefix).recent, 0, limit - 1)).map((text) => JSON.parse(text) as RecordedTransition);
}
