import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { Queue, type JobsOptions } from 'bullmq';
import type { RedisClient } from '../shared/redis.js';
import { ConflictError, ValidationError, type ValidationIssue } from '../shared/errors.js';
import { parseOrThrow, toIssues } from '../shared/validation.js';
import type { JobContract } from './contract.js';
import { z } from 'zod';
import { QUEUES, type QueueName } from './names.js';
import { contractOf, publicContractNamed, type JobName, type PayloadOf } from './registry.js';

export interface EnqueueOptions {
  /** A caller-chosen key: enqueueing again with the same key and payload returns the first job; another payload is a ConflictError. */
  idempotencyKey?: string;
  jobId?: string;
  delay?: number;
  priority?: number;
  /** Runs after validation, before anything is added, with the number of jobs about to be added; may refuse by throwing. */
  beforeAdd?: (count: number) => Promise<void>;
  /**
   * What the job is part of: the id of the root job or HTTP request that caused it. It goes
   * with the job's options (never its payload) to its logs, events and history row.
   */
  correlationId?: string;
}

/** BullMQ job options with the correlation id tickforge keeps beside them (BullMQ stores unknown options as they are). */
export type CorrelatedJobOptions = JobsOptions & { correlationId?: string };

/** The correlation id of a job: the one it was added with, else its own id (it is a root). */
export function correlationOf(job: { id?: string; opts: JobsOptions }): string {
  return (job.opts as CorrelatedJobOptions).correlationId ?? job.id!;
}

/** What enqueueing answers: the job's id, queue and name. */
export const enqueuedJobSchema = z.object({
  id: z.string().describe('the job id (deterministic for jobs whose repetition would be harmful)'),
  queue: z.enum(QUEUES),
  name: z.string(),
});

export type EnqueuedJob = z.infer<typeof enqueuedJobSchema>;

/** Adds a job of a kind named in code; the compiler checks the payload against the job's schema. */
export type EnqueueFn = <N extends JobName>(name: N, payload: PayloadOf<N>, options?: EnqueueOptions) => Promise<EnqueuedJob>;

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
    /** The connection the queues use: reads of the namespace's own keys (heartbeats) share it. */
    readonly connection: RedisClient,
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

  /** Validates and adds a job of a kind named in code: the payload type follows from the name. */
  enqueue<N extends JobName>(name: N, payload: PayloadOf<N>, options?: EnqueueOptions): Promise<EnqueuedJob> {
    return this.add(contractOf(name), payload, options);
  }

  /**
   * Validates and adds a job whose kind and payload come from outside the program (an HTTP
   * request, a CLI argument): both are checked at run time, an unknown name is an
   * UnknownJobError, a kind only another job adds an InternalJobError, and a bad payload a
   * ValidationError naming each field.
   */
  enqueueByName(name: string, payload: unknown, options?: EnqueueOptions): Promise<EnqueuedJob> {
    return this.add(publicContractNamed(name), payload, options);
  }

  private async add(contract: JobContract, payload: unknown, options: EnqueueOptions = {}): Promise<EnqueuedJob> {
    const data = parseOrThrow(contract.schema, payload);
    const jobId =
      options.jobId !== undefined
        ? safeJobId(options.jobId)
        : options.idempotencyKey !== undefined
          ? `idem-${createHash('sha256').update(`${contract.name}\n${options.idempotencyKey}`).digest('hex').slice(0, 32)}`
          : contract.jobId?.(data);
    const jobOptions: CorrelatedJobOptions = {
      ...contract.defaults,
      ...(jobId !== undefined ? { jobId } : {}),
      ...(options.delay !== undefined ? { delay: options.delay } : {}),
      ...(options.priority !== undefined ? { priority: options.priority } : {}),
      ...(options.correlationId !== undefined ? { correlationId: options.correlationId } : {}),
    };
    if (options.idempotencyKey !== undefined) {
      // The IETF Idempotency-Key draft: a repeat returns the first job; the same key with
      // another payload is a client error, never silently the first job.
      const existing = await this.queue(contract.queue).getJob(jobId!);
      if (existing) {
        if (!isDeepStrictEqual(existing.data, JSON.parse(JSON.stringify(data)))) {
          throw new ConflictError(
            `Idempotency-Key ${JSON.stringify(options.idempotencyKey)} was already used for job ${existing.id} with a different payload`,
          );
        }
        return { id: existing.id!, queue: contract.queue, name: contract.name };
      }
    }
    await options.beforeAdd?.(1);
    const job = await this.queue(contract.queue).add(contract.name, data, jobOptions);
    return { id: job.id!, queue: contract.queue, name: contract.name };
  }

  /**
   * Validates every payload first and adds them all in one round trip; if any payload is bad
   * nothing is added and the error names it by position (`payloads.3.timeframe`). The kind is
   * named at run time, as for enqueueByName.
   */
  async enqueueBulkByName(
    name: string,
    payloads: unknown[],
    options: Pick<EnqueueOptions, 'beforeAdd' | 'correlationId'> = {},
  ): Promise<EnqueuedJob[]> {
    const contract = publicContractNamed(name);
    const problems: ValidationIssue[] = [];
    const data = payloads.map((payload, index) => {
      const parsed = contract.schema.safeParse(payload);
      if (parsed.success) return parsed.data;
      for (const issue of toIssues(parsed.error)) {
        problems.push({ path: `payloads.${index}${issue.path ? `.${issue.path}` : ''}`, message: issue.message });
      }
      return undefined;
    });
    if (problems.length > 0) throw new ValidationError(problems.slice(0, 50));
    await options.beforeAdd?.(data.length);
    const jobs = await this.queue(contract.queue).addBulk(
      data.map((payload) => {
        const jobId = contract.jobId?.(payload);
        const opts: CorrelatedJobOptions = {
          ...contract.defaults,
          ...(jobId !== undefined ? { jobId } : {}),
          ...(options.correlationId !== undefined ? { correlationId: options.correlationId } : {}),
        };
        return { name, data: payload, opts };
      }),
    );
    return jobs.map((job) => ({ id: job.id!, queue: contract.queue, name }));
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
    this.queues.clear();
  }
}
