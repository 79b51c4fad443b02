import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import type { AuditRepository } from '../shared/audit.repository.js';
import { routeOf, tokenName } from './access-log.js';
import type { Tokens } from './auth.js';

/** Names of the mutating calls, by method and route pattern; Bull Board's actions are `board:<action>`. */
const ACTIONS: Array<[RegExp, string]> = [
  [/^POST \/api\/jobs\/:name\/bulk$/, 'enqueue-bulk'],
  [/^POST \/api\/jobs\/:name$/, 'enqueue'],
  [/^POST \/api\/jobs\/:queue\/redrive$/, 'redrive'],
  [/^POST \/api\/jobs\/:queue\/:id\/retry$/, 'retry'],
  [/^(POST|DELETE) \/api\/jobs\/:queue\/:id(\/cancel)?$/, 'cancel'],
];

function actionOf(method: string, route: string, path: string): string {
  const key = `${method} ${route}`;
  for (const [pattern, action] of ACTIONS) if (pattern.test(key)) return action;
  // Bull Board: /admin/queues/api/queues/<queue>/<job>/retry/failed, …/clean/completed, …/pause
  const board = /\/api\/queues\/(.+)$/.exec(path);
  if (board) {
    const words = board[1]
      .split('/')
      .filter((word) => /^[a-z-]+$/.test(word) && !['failed', 'completed', 'delayed', 'waiting', 'active'].includes(word));
    return `board:${words.at(-1) ?? method.toLowerCase()}`;
  }
  return key;
}

/** Job ids a call named or answered with: `:id`/`:jobId`, and `id`, `ids`, `jobs[].id` of its JSON answer. */
function jobIdsOf(req: Request, body: unknown): string[] {
  const ids = new Set<string>();
  const param = paramOf(req, 'id') ?? paramOf(req, 'jobId');
  if (param) ids.add(param);
  const answer = body as { id?: unknown; ids?: unknown; jobs?: unknown } | null;
  if (answer && typeof answer === 'object') {
    if (typeof answer.id === 'string') ids.add(answer.id);
    if (Array.isArray(answer.ids)) for (const id of answer.ids) if (typeof id === 'string') ids.add(id);
    if (Array.isArray(answer.jobs)) {
      for (const job of answer.jobs as Array<{ id?: unknown }>) if (typeof job?.id === 'string') ids.add(job.id);
    }
  }
  return [...ids];
}

const paramOf = (req: Request, name: string) => {
  const value = req.params[name];
  return typeof value === 'string' ? value : null;
};

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Records every mutating call (enqueue, bulk, retry, redrive, cancel, Bull Board actions) when
 * it ends, refused ones included: who, what, on which jobs, and how it ended. A call the audit
 * could not record is logged; it never fails the call itself.
 */
export function auditTrail(trail: AuditRepository, tokens: Tokens, logger: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (!MUTATING.has(req.method)) return next();
    let answer: unknown;
    const json = res.json.bind(res);
    res.json = (body?: unknown) => {
      answer = body;
      return json(body);
    };
    res.on('finish', () => {
      const route = routeOf(req);
      const path = `${req.baseUrl}${req.path}`;
      if (route === 'unmatched' && !path.includes('/api/queues/')) return;
      const answered = answer as { queue?: unknown; name?: unknown } | undefined;
      const entry = {
        actor: tokenName(req, tokens),
        action: actionOf(req.method, route, req.originalUrl.split('?')[0]),
        method: req.method,
        route: route === 'unmatched' ? req.originalUrl.split('?')[0] : route,
        status: res.statusCode,
        queue:
          paramOf(req, 'queue') ?? paramOf(req, 'queueName') ?? (typeof answered?.queue === 'string' ? answered.queue : null),
        jobName: paramOf(req, 'name') ?? (typeof answered?.name === 'string' ? answered.name : null),
        jobIds: jobIdsOf(req, answer),
        requestId: String(req.id),
      };
      trail
        .record(entry)
        .catch((error: unknown) => logger.error({ err: error, audit: entry }, 'could not record an audit entry'));
    });
    next();
  };
}
