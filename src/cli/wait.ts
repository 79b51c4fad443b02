import { QueueEvents, type Job } from 'bullmq';
import cliProgress from 'cli-progress';
import { liveWorkers } from '../queues/heartbeat.js';
import type { Producer } from '../queues/producer.js';
import type { QueueName } from '../queues/names.js';
import { progressOf } from '../queues/progress.js';
import { closeRedis, createRedis, type RedisConnection } from '../shared/redis.js';

/** The job ended in the failed state. */
export class JobFailedError extends Error {
  constructor(
    readonly jobId: string,
    readonly reason: string,
  ) {
    super(`job ${jobId} failed: ${reason}`);
    this.name = 'JobFailedError';
  }
}

/** Something that shows a job's progress: a bar on a terminal, plain lines elsewhere. */
export interface ProgressView {
  update(percent: number): void;
  stop(): void;
}

export function progressView(label: string, stream: NodeJS.WriteStream = process.stderr): ProgressView {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {percentage}%`, hideCursor: true, stream },
      cliProgress.Presets.shades_classic,
    );
    bar.start(100, 0);
    return { update: (percent) => bar.update(percent), stop: () => bar.stop() };
  }
  let last = -1;
  return {
    update(percent) {
      // Without a terminal, print a line per tenth so logs stay short.
      const step = Math.floor(percent / 10);
      if (step > last) {
        last = step;
        stream.write(`${label} ${percent}%\n`);
      }
    },
    stop() {},
  };
}

/**
 * Waits for a job to finish, feeding its progress to `view`; resolves with its result or
 * rejects with JobFailedError.
 */
export async function waitForJob(
  producer: Producer,
  connection: RedisConnection,
  queue: QueueName,
  jobId: string,
  view?: ProgressView,
  timeoutMs = 24 * 3600_000,
  notice: (line: string) => void = () => undefined,
): Promise<unknown> {
  const reader = createRedis(connection, 'worker', 'tickforge-cli-events');
  const events = new QueueEvents(queue, { connection: reader, prefix: producer.prefix });
  events.on('error', () => undefined);
  try {
    await events.waitUntilReady();
    events.on('progress', ({ jobId: id, data }) => {
      if (id === jobId) view?.update(progressOf(data).progressPercent);
    });
    const job: Job | undefined = await producer.queue(queue).getJob(jobId);
    if (!job) throw new Error(`no job ${jobId} in queue ${queue}`);
    view?.update(progressOf(job.progress).progressPercent);
    let attemptsSeen = 0;
    const onRetry = async ({ jobId: id }: { jobId: string }) => {
      if (id !== jobId) return;
      const retried = await producer.queue(queue).getJob(jobId);
      if (!retried || retried.attemptsMade <= attemptsSeen || !retried.failedReason) return;
      // A finished job's last failure is reported as its outcome, not as a retry.
      if (['completed', 'failed'].includes(await retried.getState())) return;
      attemptsSeen = retried.attemptsMade;
      const wait = retried.delay > 0 ? ` in ${Math.round(retried.delay / 100) / 10} s` : '';
      notice(
        `${queue}/${jobId}: attempt ${retried.attemptsMade} of ${retried.opts.attempts ?? 1} failed: ${retried.failedReason}; retrying${wait}`,
      );
    };
    events.on('delayed', (args) => void onRetry(args).catch(() => undefined));
    events.on('waiting', (args) => void onRetry(args).catch(() => undefined));
    // An attempt may have failed before these listeners were there.
    void onRetry({ jobId }).catch(() => undefined);
    const watchdog = watchForWorkers(producer, queue, jobId, notice);
    try {
      const result = await job.waitUntilFinished(events, timeoutMs);
      view?.update(100);
      return result;
    } catch (error) {
      const failed = await producer.queue(queue).getJob(jobId);
      throw new JobFailedError(jobId, failed?.failedReason || (error as Error).message);
    } finally {
      watchdog.stop();
    }
  } finally {
    view?.stop();
    await events.close();
    await closeRedis(reader);
  }
}

/**
 * Says once when the job waits in a queue that no worker serves (checked now and every
 * `everyMs` while the job has not started), so a wait never sits silently at 0 %.
 */
function watchForWorkers(producer: Producer, queue: QueueName, jobId: string, notice: (line: string) => void, everyMs = 5_000) {
  let told = false;
  const check = async () => {
    const state = await producer.queue(queue).getJobState(jobId);
    if (!['waiting', 'prioritized', 'delayed', 'waiting-children'].includes(state)) return;
    if (told || (await liveWorkers(producer.connection, producer.prefix)).some((worker) => worker.queues.includes(queue))) return;
    told = true;
    notice(
      `no worker serves queue ${queue}: the job waits until one starts (node dist/workers/main.js, npx tickforge dev, or a worker whose TICKFORGE_QUEUES includes ${queue})`,
    );
  };
  void check().catch(() => undefined);
  const timer = setInterval(() => void check().catch(() => undefined), everyMs);
  return { stop: () => clearInterval(timer) };
}
