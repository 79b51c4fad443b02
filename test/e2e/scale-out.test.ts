import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { liveWorkers } from '../../src/queues/heartbeat.js';
import { SPY_1MIN, dataFile } from '../helpers/data.js';
import { expectImportedOnce, minuteBarsCsv } from '../helpers/import-batch.js';
import { startProcess, type LogLine, type TestProcess } from '../helpers/process.js';
import { TestRedisCluster } from '../helpers/redis-cluster.js';
import { TestSystem } from '../helpers/system.js';
import { eventually } from '../helpers/wait.js';

/** The batch: 20,000 noop jobs (about 75 s on three workers on a loaded two-core machine). */
const NOOP_JOBS = 20_000;
/** Small real imports mixed into the batch: one symbol each, 30 minute bars. */
const IMPORTS = 60;
const EOD_DATE = '2013-10-07';

/** The worker processes: two serving different subsets of the queues (both serve `system`), one serving all. */
const WORKERS: Array<{ name: string; queues?: string }> = [
  { name: 'ingest+compute', queues: 'ingest,aggregate,scenario,system' },
  { name: 'sync+analytics', queues: 'sync,analytics,cache,futures,system' },
  { name: 'all' },
];

const COMPLETED = /^(\S+) (\S+) completed on attempt (\d+)$/;

/** Every `<job> <id> completed` line a worker process logged, as `<job> <id>` (ids are per queue). */
const completions = (worker: TestProcess) =>
  worker.lines.flatMap((line: LogLine) => {
    const match = COMPLETED.exec(line.msg ?? '');
    return match ? [`${match[1]} ${match[2]}`] : [];
  });

describe('many worker processes over a Redis Cluster', function () {
  this.timeout(300_000);
  let cluster: TestRedisCluster;
  let system: TestSystem;
  const workers: TestProcess[] = [];

  before(async () => {
    cluster = await TestRedisCluster.start();
    system = await TestSystem.create(
      { redisClusterNodes: cluster.seeds, prefix: `{tfw-${randomBytes(4).toString('hex')}}` },
      'worker',
    );
  });

  after(async () => {
    await Promise.all(workers.map((worker) => worker.stop('SIGKILL')));
    await system?.close();
    await cluster?.stop();
  });

  it('should complete an EOD run and a mixed batch exactly once when one of three workers is killed with SIGKILL', async () => {
    for (const { queues } of WORKERS) {
      workers.push(startProcess('worker', system.config, [], queues ? { TICKFORGE_QUEUES: queues } : {}));
    }
    await Promise.all(workers.map((worker) => worker.waitForLine((line) => /serving/.test(line.msg ?? ''), 120_000)));
    await eventually(async () => (await liveWorkers(system.redis, system.config.prefix)).length === 3, 'three live workers');
    await system.run('import-bars', { file: dataFile(SPY_1MIN), symbol: 'SPY', timeframe: '1m' }, 120_000);

    const started = Date.now();
    const pipeline = await system.producer.enqueue('eod-pipeline', { date: EOD_DATE });
    const symbols = Array.from({ length: IMPORTS }, (_, i) => `W${String(i).padStart(3, '0')}`);
    const imports: string[] = [];
    const noops: string[] = [];
    // Every tenth noop waits a little, so jobs are in flight on every worker when one dies.
    const payloads = Array.from({ length: NOOP_JOBS }, (_, i) => (i % 10 === 0 ? { waitMs: 20 } : {}));
    const chunks = Math.ceil(NOOP_JOBS / 1_000);
    for (let chunk = 0; chunk < chunks; chunk++) {
      const added = await system.producer.enqueueBulkByName('noop', payloads.slice(chunk * 1_000, (chunk + 1) * 1_000));
      noops.push(...added.map((job) => job.id));
      for (const [i, symbol] of symbols.entries()) {
        if (i % chunks !== chunk) continue;
        imports.push(
          (await system.producer.enqueue('import-bars', { csv: minuteBarsCsv('2018-03-07', 10 + i), symbol, timeframe: '1m' }))
            .id,
        );
      }
    }

    const completedCount = async () =>
      Number(
        (
          await system
            .db('job_history')
            .where({ name: 'noop', outcome: 'completed' })
            .count<Array<{ count: string }>>({ count: '*' })
        )[0].count,
      );
    // Killed once a third of the batch is done: mid-batch, with jobs of every kind in flight.
    await eventually(async () => (await completedCount()) >= NOOP_JOBS / 3, 'a third of the batch to complete', 120_000, 250);
    const [victim, ...survivors] = workers;
    victim.child.kill('SIGKILL');
    expect((await victim.exited).signal).to.equal('SIGKILL');
    // A lower bound: log lines still buffered in the killed process are lost with it.
    const doneByVictim = new Set(completions(victim));

    await eventually(async () => (await completedCount()) === NOOP_JOBS, 'every noop job to complete', 180_000, 250);
    const events = await system.events('sync');
    const eod = await system.producer.queue('sync').getJob(pipeline.id);
    const result = (await eod!.waitUntilFinished(events, 180_000)) as { steps: unknown[] };
    expect(result.steps).to.have.length(5);
    await system.waitForCompleted('ingest', imports, 120_000);
    const elapsedMs = Date.now() - started;
    process.stdout.write(`      ${NOOP_JOBS} noop + ${IMPORTS} imports + an EOD run on 3 workers: ${elapsedMs} ms\n`);

    // Nothing lost, nothing doubled: one completed history row for every job enqueued.
    const history = await system.db('job_history').select('job_id', 'name', 'outcome');
    const ids = (name: string) =>
      history
        .filter((row) => row.name === name)
        .map((row) => String(row.job_id))
        .sort();
    expect(ids('noop')).to.deep.equal([...noops].sort());
    expect(history.filter((row) => row.outcome !== 'completed')).to.deep.equal([]);
    for (const step of ['aggregate', 'detect', 'analyze', 'sync', 'warm'])
      expect(history.map((row) => String(row.job_id))).to.include(`${pipeline.id}-${step}`);

    // BullMQ hands a job to one worker at a time: the survivors never ran a job twice, and a job
    // completed twice only when the killed worker ran it and died before BullMQ took its result.
    const seen = new Map<string, number>();
    for (const id of survivors.flatMap(completions)) seen.set(id, (seen.get(id) ?? 0) + 1);
    expect([...seen].filter(([, count]) => count > 1)).to.deep.equal([]);
    const redone = [...doneByVictim].filter((id) => seen.has(id));
    // At most the jobs it had in flight: its concurrency on each of its queues.
    expect(redone.length).to.be.at.most(system.config.workerConcurrency * WORKERS[0].queues!.split(',').length);
    expect(doneByVictim.size).to.be.greaterThan(0);

    // The imports' rows are there once each.
    await expectImportedOnce(system, symbols, imports);
    // The EOD run built the day's daily bar.
    const daily = await system.db('bars').where({ symbol: 'SPY', timeframe: '1d' }).whereRaw(`ts::date = ?`, [EOD_DATE]);
    expect(daily).to.have.length(1);

    for (const queue of ['system', 'ingest', 'sync', 'aggregate', 'analytics', 'cache'] as const) {
      const counts = await system.producer.queue(queue).getJobCounts('waiting', 'active', 'delayed', 'failed');
      expect(counts, queue).to.deep.equal({ waiting: 0, active: 0, delayed: 0, failed: 0 });
    }
    // The killed worker drops out once its heartbeat expires; the two others stay.
    await eventually(
      async () => (await liveWorkers(system.redis, system.config.prefix)).length === 2,
      'two live workers',
      30_000,
      500,
    );
  });
});
