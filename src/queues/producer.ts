import { createHash } from 'node:crypto';
import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { registry, type JobName, type PayloadOf } from '../../jobs/index.js';
import { ValidationError, parseOrThrow, toIssues, type ValidationIssue } from '../shared/validation.js';
import type { QueueName } from './names.js';

export interface EnqueueOptions {
  /** A caller-chosen key: enqueueing again with the same key returns the first job. */
  idempotencyKey?: string;
  jobId?: string;
  delay?: number;
  priority?: number;
}

export interface EnqueuedJob {
  id: string;
  queue: QueueName;
  name: string;
}

/** Thrown for a job name the registry does not know. */
export class UnknownJobError extends Error {
  constructor(readonly jobName: string) {
    super(`unknown job ${JSON.stringify(jobName)}; known jobs: ${[...registry.keys()].join(', ')}`);
    this.name = 'UnknownJobError';
  }
}

/** A BullMQ job id may not contain ':' and may not be all digits. */
export function safeJobId(id: string): string {
  if (id.includes(':') || /^\d+$/.test(id)) {
    throw new ValidationError([{ path: 'jobId', message: 'must not contain ":" and must not be all digits' }]);
  }
  return id;
}

/**
 * Adds jobs to their queues after validating the payload with the job's own schema. One
 * instance per process, on a fail-fast connection: when Redis is away, enqueue rejects at once.
 */
export class Producer {
  private readonly queues = new Map<QueueName, Queue>();

  constructor(
    private readonly connection: Redis,
    readonly prefix: string,
  ) {}

  queue(name: QueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.connection, prefix: this.prefix });
      queue.on('error', () => {
        // Connection errors surface on the calls that hit them; the queue itself must not crash.
      });
      this.queues.set(name, queue);
    }
    return queue;
  }

  /** Validates and adds a job; the payload type follows from the job name. */
  async enqueue<N extends JobName>(name: N, payload: PayloadOf<N>, options?: EnqueueOptions): Promise<EnqueuedJob>;
  async enqueue(name: string, payload: unknown, options?: EnqueueOptions): Promise<EnqueuedJob>;
  async enqueue(name: string, payload: unknown, options: EnqueueOptions = {}): Promise<EnqueuedJob> {
    const definition = registry.get(name);
    if (!definition) throw new UnknownJobError(name);
    const data = parseOrThrow(definition.schema, payload);
    const jobId =
      options.jobId !== undefined
        ? safeJobId(options.jobId)
        : options.idempotencyKey !== undefined
          ? `idem-${createHash('sha256').update(`${name}\n${options.idempotencyKey}`).digest('hex').slice(0, 32)}`
          : definition.jobId?.(data);
    const jobOptions: JobsOptions = {
      ...definition.defaults,
      ...(jobId !== undefined ? { jobId } : {}),
      ...(options.delay !== undefined ? { delay: options.delay } : {}),
      ...(options.priority !== undefined ? { priority: options.priority } : {}),
    };
    const job = await this.queue(definition.queue).add(name, data, jobOptions);
    return { id: job.id!, queue: definition.queue, name };
  }

  /**
   * Validates every payload first and adds them all in one round trip; if any payload is bad
   * nothing is added and the error names it by position (`payloads.3.timeframe`).
   */
  async enqueueBulk(name: string, payloads: unknown[]): Promise<EnqueuedJob[]> {
    const definition = registry.get(name);
    if (!definition) throw new UnknownJobError(name);
    const problems: ValidationIssue[] = [];
    const data = payloads.map((payload, index) => {
      const parsed = definition.schema.safeParse(payload);
      if (parsed.success) return parsed.data;
      for (const issue of toIssues(parsed.error)) {
        problems.push({ path: `payloads.${index}${issue.path ? `.${issue.path}` : ''}`, message: issue.message });
      }
      return undefined;
    });
    if (problems.length > 0) throw new ValidationError(problems.slice(0, 50));
    const jobs = await this.queue(definition.queue).addBulk(
      data.map((payload) => {
        const jobId = definition.jobId?.(payload);
        return { name, data: payload, opts: { ...definition.defaults, ...(jobId !== undefined ? { jobId } : {}) } };
      }),
    );
    return jobs.map((job) => ({ id: job.id!, queue: definition.queue, name }));
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
    this.queues.clear();
  }
}
