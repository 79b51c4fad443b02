import { type Command, InvalidArgumentError } from 'commander';
import { describeJob } from '../api/routes/jobs.js';
import { loadConfigOrExit, type Config } from '../shared/config.js';
import { createDb, dbSettings } from '../shared/db.js';
import { cancelJob } from '../queues/cancel.js';
import { FRESH_ATTEMPTS, listFailed, redrive } from '../queues/dead-letters.js';
import { QUEUES, isQueueName, type QueueName } from '../queues/names.js';
import type { Producer } from '../queues/producer.js';
import { queueStatus } from '../queues/status.js';
import { readiness } from '../shared/health.js';
import { isCalendarDate } from '../shared/zone.js';
import { UniverseSyncRepository } from '../universes/sync.repository.js';
import { SandboxCatalog } from '../scenarios/sandbox.repository.js';
import { NotFoundError } from '../shared/errors.js';
import type { Knex } from 'knex';
import { answer, withProducer } from './connect.js';

/** A queue name argument, or a usage error naming the queues. */
export function queueArgument(value: string): QueueName {
  if (!isQueueName(value)) throw new InvalidArgumentError(`unknown queue; one of ${QUEUES.join(', ')}`);
  return value;
}

function instantOption(value: string): number {
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw new InvalidArgumentError('must be an ISO-8601 date or date-time');
  return ms;
}

function countOption(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('must be a whole number of 1 or more');
  return Number(value);
}

/** Runs `work` on a one-connection pool to the configured database, closed afterwards. */
async function withDb<T>(config: Config, work: (db: Knex) => Promise<T>): Promise<T> {
  const db = createDb({ ...dbSettings(config), poolMax: 1 });
  try {
    return await work(db);
  } finally {
    await db.destroy();
  }
}

/** A command's problem that is the operator's to fix (exit 1 with the message). */
export class OperatorError extends Error {}

async function requireJob(producer: Producer, queue: QueueName, id: string) {
  const job = await producer.queue(queue).getJob(id);
  if (!job) throw new OperatorError(`no job ${id} in queue ${queue}`);
  return job;
}

const json = (command: Command) => Boolean(command.optsWithGlobals<{ json?: boolean }>().json);

const queuesOf = (config: Config): readonly QueueName[] => (config.queues as QueueName[] | undefined) ?? QUEUES;

/**
 * The operator's commands: `jobs failed|show|retry|redrive|cancel`, `queues`, `sync-rollback`,
 * `sandboxes [drop]` and `health`. Each reads or changes BullMQ state in Redis or the database
 * directly, like the API's dead-letter and sandbox routes.
 */
export function addOperatorCommands(program: Command): void {
  const jobs = program.command('jobs').description('inspect and act on jobs: failed, show, retry, redrive, cancel');

  jobs
    .command('failed')
    .description('jobs that used up their attempts (dead letters), newest first')
    .option('--queue <queue>', `one queue (${QUEUES.join(', ')})`, queueArgument)
    .option('--name <job>', 'only jobs of this name')
    .option('--limit <n>', 'at most this many', countOption, 50)
    .action(async (options: { queue?: QueueName; name?: string; limit: number }, command: Command) => {
      const config = loadConfigOrExit();
      const page = await withProducer(config, (producer) =>
        listFailed(producer, options.queue ? [options.queue] : QUEUES, { name: options.name, limit: options.limit, offset: 0 }),
      );
      answer(json(command), page, () =>
        page.jobs.length === 0
          ? ['no failed jobs']
          : [
              `${page.total} failed job${page.total === 1 ? '' : 's'}${page.total > page.jobs.length ? ` (the newest ${page.jobs.length})` : ''}:`,
              ...page.jobs.map(
                (job) =>
                  `  ${job.queue}/${job.id}  ${job.name}  ${job.failedAt ?? ''}  after ${job.attemptsMade} of ${job.attempts}: ${job.failedReason}`,
              ),
              'retry one: tickforge jobs retry <queue> <id>; all of a queue: tickforge jobs redrive <queue>',
            ],
      );
    });

  jobs
    .command('show')
    .description('a job: state, progress, attempts, payload, result or failure')
    .argument('<queue>', 'queue name', queueArgument)
    .argument('<id>', 'job id')
    .action(async (queue: QueueName, id: string, _options: unknown, command: Command) => {
      const view = await withProducer(loadConfigOrExit(), async (producer) =>
        describeJob(await requireJob(producer, queue, id), queue),
      );
      answer(json(command), view, () => [JSON.stringify(view, null, 2)]);
    });

  jobs
    .command('retry')
    .description('put one failed job back, with fresh attempts')
    .argument('<queue>', 'queue name', queueArgument)
    .argument('<id>', 'job id')
    .action(async (queue: QueueName, id: string, _options: unknown, command: Command) => {
      const state = await withProducer(loadConfigOrExit(), async (producer) => {
        const job = await requireJob(producer, queue, id);
        const before = await job.getState();
        if (before !== 'failed') throw new OperatorError(`job ${id} is ${before}, not failed; only failed jobs can be retried`);
        await job.retry('failed', FRESH_ATTEMPTS);
        return job.getState();
      });
      answer(json(command), { id, queue, state }, () => [`${queue}/${id} is ${state} again`]);
    });

  jobs
    .command('redrive')
    .description('put every failed job of a queue back that matches, each with fresh attempts')
    .argument('<queue>', 'queue name', queueArgument)
    .option('--name <job>', 'only jobs of this name')
    .option('--from <when>', 'only jobs that failed at or after this instant', instantOption)
    .option('--to <when>', 'only jobs that failed before this instant', instantOption)
    .option('--limit <n>', 'at most this many', countOption, 10_000)
    .action(async (queue: QueueName, options: { name?: string; from?: number; to?: number; limit: number }, command: Command) => {
      const ids = await withProducer(loadConfigOrExit(), (producer) => redrive(producer, queue, options));
      answer(json(command), { queue, retried: ids.length, ids }, () => [`put back ${ids.length} failed job(s) of ${queue}`]);
    });

  jobs
    .command('cancel')
    .description('stop a running job (its kernel is aborted; it fails for good) or remove one that has not started')
    .argument('<queue>', 'queue name', queueArgument)
    .argument('<id>', 'job id')
    .option('--reason <text>', 'why, recorded as the failure reason', 'cancelled by an operator')
    .action(async (queue: QueueName, id: string, options: { reason: string }, command: Command) => {
      const outcome = await withProducer(loadConfigOrExit(), (producer, redis) =>
        cancelJob(producer, redis, { queue, id, reason: options.reason }),
      );
      if (outcome.outcome === 'not-found') throw new OperatorError(`no job ${id} in queue ${queue}`);
      answer(json(command), { id, queue, ...outcome }, () => [
        outcome.outcome === 'cancelling'
          ? `${queue}/${id} is running: its worker was asked to stop it`
          : outcome.outcome === 'removed'
            ? `${queue}/${id} had not started (${outcome.state}): removed`
            : `${queue}/${id} had already ${outcome.state === 'completed' ? 'completed' : 'failed'}; nothing to cancel`,
      ]);
    });

  program
    .command('queues')
    .description('jobs per state and the workers serving each queue')
    .action(async (_options: unknown, command: Command) => {
      const config = loadConfigOrExit();
      const status = await withProducer(config, (producer) => queueStatus(producer, queuesOf(config)));
      answer(json(command), { queues: status }, () => [
        'queue       waiting  active  delayed  failed  completed  workers',
        ...status.map(
          (q) =>
            `${q.queue.padEnd(10)}  ${String(q.waiting + q.prioritized).padStart(7)}  ${String(q.active).padStart(6)}  ${String(q.delayed).padStart(7)}  ${String(q.failed).padStart(6)}  ${String(q.completed).padStart(9)}  ${q.workers.length === 0 ? 'none' : `${q.workers.length} (${q.workers.join(', ')})`}`,
        ),
        ...status
          .filter((q) => q.workers.length === 0 && q.waiting + q.prioritized + q.delayed > 0)
          .map((q) => `no worker serves ${q.queue}: its ${q.waiting + q.prioritized + q.delayed} jobs wait until one starts`),
      ]);
    });

  program
    .command('sync-rollback')
    .description('roll the end-of-day universe sync back to a date, so the dates after it can be synced again')
    .argument('<date>', 'the last trading date to keep, YYYY-MM-DD')
    .action(async (date: string, _options: unknown, command: Command) => {
      if (!isCalendarDate(date)) throw new InvalidArgumentError('the date must be YYYY-MM-DD');
      const config = loadConfigOrExit();
      const rollback = await withDb(config, (db) => new UniverseSyncRepository(db, config.dbSchema).rollBack(date));
      answer(json(command), rollback, () => [
        rollback.tasks.length === 0
          ? `no sync task had synced past ${date}; nothing changed`
          : `rolled back to ${date}: ${rollback.tasks.join(', ')}; ${rollback.membershipsDeleted} memberships deleted, ` +
            `${rollback.membershipsReopened} reopened, ${rollback.runsDeleted} runs and ${rollback.changesDeleted} audit rows removed`,
      ]);
    });

  const sandboxes = program
    .command('sandboxes')
    .description('the sandbox schemas scenario runs created: name, creation time, tables, symbols (drop <schema> removes one)')
    .action(async (_options: unknown, command: Command) => {
      const config = loadConfigOrExit();
      const list = await withDb(config, (db) => new SandboxCatalog(db, config.dbSchema).list());
      answer(json(command), { sandboxes: list, limit: config.sandboxSchemaLimit }, () => [
        `${list.length} sandbox schema${list.length === 1 ? '' : 's'} (TICKFORGE_SANDBOX_SCHEMA_LIMIT ${config.sandboxSchemaLimit})`,
        ...list.map(
          (sandbox) =>
            `  ${sandbox.schema}  created ${sandbox.createdAt ?? 'unknown'}  ${sandbox.tables} tables  ${sandbox.symbols} symbols`,
        ),
      ]);
    });

  sandboxes
    .command('drop')
    .description('drop a sandbox schema and every table in it')
    .argument('<schema>', 'sandbox schema name')
    .action(async (schema: string, _options: unknown, command: Command) => {
      const config = loadConfigOrExit();
      const dropped = await withDb(config, async (db) => {
        try {
          return await new SandboxCatalog(db, config.dbSchema).drop(schema);
        } catch (error) {
          if (error instanceof NotFoundError) throw new OperatorError(error.message);
          throw error;
        }
      });
      answer(json(command), dropped, () => [`dropped sandbox schema ${dropped.schema} (${dropped.tables} tables)`]);
    });

  program
    .command('health')
    .description('PostgreSQL, Redis, migrations and queues; exits 1 when something is not ready')
    .action(async (_options: unknown, command: Command) => {
      const config = loadConfigOrExit();
      const db = createDb({ ...dbSettings(config), poolMax: 1 });
      try {
        const report = await withProducer(config, async (producer, redis) => {
          const checks = await readiness(redis, db, config);
          const status = await queueStatus(producer, queuesOf(config));
          return { ready: Object.values(checks).every((value) => value === 'ok'), checks, queues: status };
        }).catch((error: Error) => ({ ready: false, checks: { redis: error.message }, queues: [] }));
        answer(json(command), report, () => [
          ...Object.entries(report.checks).map(([name, value]) => `${name.padEnd(11)} ${value}`),
          ...report.queues.map(
            (q) =>
              `queue ${q.queue.padEnd(10)} ${q.waiting + q.prioritized} waiting, ${q.active} active, ${q.failed} failed, ${q.workers.length} worker(s)`,
          ),
        ]);
        if (!report.ready) process.exitCode = 1;
      } finally {
        await db.destroy();
      }
    });
}
