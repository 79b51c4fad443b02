import { QueueEvents, type Job } from 'bullmq';
import cliProgress from 'cli-progress';
import type { Producer } from '../queues/producer.js';
import type { QueueName } from '../queues/names.js';

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
  redisUrl: string,
  queue: QueueName,
  jobId: string,
  view?: ProgressView,
  timeoutMs = 24 * 3600_000,
): Promise<unknown> {
  const events = new QueueEvents(queue, { connection: { url: redisUrl }, prefix: producer.prefix });
  events.on('error', () => undefined);
  try {
    await events.waitUntilReady();
    events.on('progress', ({ jobId: id, data }) => {
      if (id === jobId && typeof data === 'number') view?.update(data);
    });
    const job: Job | undefined = await producer.queue(queue).getJob(jobId);
    if (!job) throw new Error(`no job ${jobId} in queue ${queue}`);
    if (typeof job.progress === 'number') view?.update(job.progress);
    try {
      const result = await job.waitUntilFinished(events, timeoutMs);
      view?.update(100);
      return result;
    } catch (error) {
      const failed = await producer.queue(queue).getJob(jobId);
      throw new JobFailedError(jobId, failed?.failedReason || (error as Error).message);
    }
  } finally {
    view?.stop();
    await events.close();
  }
}
