/**
 * Compile-time tests of the job contracts: `npm run lint:types` and the test command's build
 * compile this file, and every `@ts-expect-error` below must meet an error, so a misspelled job
 * name, a payload of the wrong shape or a result read as the wrong type fails the build.
 */
import type { JobContext } from '../../jobs/context.js';
import type { Producer } from '../../src/queues/producer.js';
import type { Publisher } from '../../src/notify/publisher.js';
import type { AnySchedule } from '../../src/scheduler/schedules.js';

export async function enqueueIsTypedByName(producer: Producer): Promise<void> {
  await producer.enqueue('import-bars', { csv: 'ts,open,high,low,close,volume', timeframe: '1m' });
  // @ts-expect-error a misspelled job name
  await producer.enqueue('import-barz', { csv: 'ts,open,high,low,close,volume', timeframe: '1m' });
  // @ts-expect-error a field the payload does not have
  await producer.enqueue('import-bars', { csv: 'x', timeframe: '1m', colour: 'red' });
  // @ts-expect-error a field of the wrong type
  await producer.enqueue('noop', { cpuMs: '5' });
  // @ts-expect-error a value outside the field's enum
  await producer.enqueue('aggregate-bars', { source: '7m' });
  // Names and payloads from outside the program go through the run-time check.
  await producer.enqueueByName('import-barz', { anything: true });
}

export async function handlersAreTyped(ctx: JobContext): Promise<void> {
  await ctx.enqueue('eod-pipeline', { date: '2018-02-07' });
  // @ts-expect-error another job's payload
  await ctx.enqueue('eod-pipeline', { top: 100 });
  await ctx.children.add([
    { name: 'eod-sync-task', payload: { date: '2018-02-07', task: 'delisted_cleanup', runId: 'r' }, jobId: 'c' },
  ]);
  // @ts-expect-error a child whose payload lacks its job's required fields
  await ctx.children.add([{ name: 'eod-sync-task', payload: { date: '2018-02-07' }, jobId: 'c' }]);
  const outcome = await ctx.children.resultOf({ name: 'eod-sync-task', jobId: 'c' });
  const changes: number | undefined = outcome?.changes;
  // @ts-expect-error a child's result has its job's result type: eod-sync-task returns no rows
  const rows: number | undefined = outcome?.rows;
  void [changes, rows];
}

export async function eventsAreTypedByChannel(ctx: JobContext, publisher: Publisher): Promise<void> {
  await ctx.events.publish('automationStatus', { pipeline: 'eod', date: '2018-02-07', status: 'running' });
  // @ts-expect-error another channel's payload
  await ctx.events.publish('barsUpdated', { pipeline: 'eod', date: '2018-02-07', status: 'running' });
  // @ts-expect-error a channel that does not exist
  await publisher.publish('tickstock.bars.updated', {});
  // @ts-expect-error written bars name a timeframe tickforge knows
  await ctx.events.barsWritten([{ symbol: 'SPY', timeframe: '3m', variant: '', rows: 1 }]);
}

export const schedules: AnySchedule[] = [
  { id: 'ok', job: 'warm-cache', pattern: '0 * * * *', tz: 'UTC', payload: { top: 10 } },
  // @ts-expect-error a schedule whose payload belongs to another job
  { id: 'bad', job: 'eod-trigger', pattern: '0 * * * *', tz: 'UTC', payload: { top: 10 } },
];
