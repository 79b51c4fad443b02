import { existsSync } from 'node:fs';
import path from 'node:path';
import { JobFailedError, progressView } from './wait.js';

/** Reads a text/event-stream response, yielding each event with its parsed data. */
export async function* serverSentEvents(response: Response): AsyncGenerator<{ event: string; data: unknown }> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let split: number;
    while ((split = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, split);
      buffer = buffer.slice(split + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data !== undefined) yield { event, data: JSON.parse(data) };
    }
  }
}

/**
 * What every step of the demo shares: the running API, its token, numbered headings, and a way
 * to submit a job over HTTP and follow it to the end through its event stream.
 */
export class DemoTour {
  readonly headers: Record<string, string>;

  constructor(
    readonly url: string,
    token: string,
    private readonly dataDir: string | undefined,
    readonly say: (line?: string) => void,
    /** Number of the next heading. */
    private step = 1,
  ) {
    this.headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  }

  heading(title: string): void {
    this.say(`${this.step++}. ${title}`);
  }

  /** A file of the sample market data, or undefined when it is not on this machine. */
  dataFile(relative: string): string | undefined {
    const file = this.dataDir ? path.join(this.dataDir, relative) : undefined;
    return file && existsSync(file) ? file : undefined;
  }

  /** POSTs a job, follows GET /api/jobs/:queue/:id/events with a progress bar, returns its result. */
  async run<T = Record<string, unknown>>(name: string, payload: unknown, label = name): Promise<T> {
    const posted = await fetch(`${this.url}/api/jobs/${name}`, {
      method: 'POST',
      headers: this.headers,
      body: JSON.stringify(payload),
    });
    const job = (await posted.json()) as { id: string; queue: string; error?: string };
    if (posted.status !== 202) throw new Error(`the API refused ${name}: ${posted.status} ${job.error}`);
    const view = progressView(`   ${label}`, process.stdout);
    const stream = await fetch(`${this.url}/api/jobs/${job.queue}/${job.id}/events`, { headers: this.headers });
    try {
      for await (const { event, data } of serverSentEvents(stream)) {
        if (event === 'progress') view.update(Number((data as { progress: number }).progress));
        if (event === 'completed') return (data as { result: T }).result;
        if (event === 'failed') throw new JobFailedError(job.id, String((data as { failedReason: string }).failedReason));
      }
    } finally {
      view.stop();
    }
    throw new Error(`the event stream of ${name} ${job.id} ended before the job did`);
  }

  async get<T>(route: string): Promise<T> {
    const response = await fetch(`${this.url}${route}`, { headers: this.headers });
    if (!response.ok) throw new Error(`GET ${route}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  }
}
