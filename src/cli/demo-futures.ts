import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import type { RollEvent } from '../domain/futures-adjust.js';
import { Producer } from '../queues/producer.js';
import type { QueueName } from '../queues/names.js';
import { closeRedis, createRedis } from '../redis.js';
import { waitForJob } from './wait.js';

const ES_FILE = 'futures/es_daily_by_contract.csv';

/**
 * The tour's futures step: import the ES contracts and build `ES.c.volume.ratio` through the
 * HTTP API, then read the series and its first roll back.
 */
export async function demoFutures(config: Config, apiUrl: string, token: string, out: (line?: string) => void): Promise<void> {
  const file = config.dataDir ? path.join(config.dataDir, ES_FILE) : undefined;
  if (!file || !existsSync(file)) {
    out(`   skipped: ${ES_FILE} is not in the sample data directory`);
    return;
  }
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const redis = createRedis(config.redisUrl, 'producer', 'tickforge-demo');
  const producer = new Producer(redis, config.prefix);
  const run = async (name: string, payload: unknown): Promise<Record<string, unknown>> => {
    const posted = await fetch(`${apiUrl}/api/jobs/${name}`, { method: 'POST', headers, body: JSON.stringify(payload) });
    const job = (await posted.json()) as { id: string; queue: QueueName; error?: string };
    if (posted.status !== 202) throw new Error(`the API refused ${name}: ${posted.status} ${job.error}`);
    return (await waitForJob(producer, config.redisUrl, job.queue, job.id)) as Record<string, unknown>;
  };
  try {
    const imported = (await run('import-futures', { file })) as { contracts: unknown[]; nonSessionRows: { count: number } };
    out(`   import-futures: ${imported.contracts.length} contracts; ${imported.nonSessionRows.count} Sunday/holiday rows merged into the next session`);
    await run('build-continuous', { root: 'ES', roll: 'volume', adjust: 'ratio' });
    const response = await fetch(`${apiUrl}/api/futures/ES/continuous?roll=volume&adjust=ratio`, { headers });
    const series = (await response.json()) as { series: string; bars: unknown[]; rolls: RollEvent[] };
    const [roll] = series.rolls;
    out(`   GET /api/futures/ES/continuous?roll=volume&adjust=ratio: ${series.bars.length} bars of ${series.series}, ${series.rolls.length} rolls`);
    if (roll) {
      out(`   first roll ${roll.fromContract} → ${roll.toContract} on ${roll.rollDate} (${roll.trigger}); closes ${roll.fromClose} → ${roll.toClose} on ${roll.referenceDate}, ratio ${roll.ratio?.toFixed(6)}`);
    }
  } finally {
    await producer.close();
    await closeRedis(redis);
  }
}
