import { Router, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { enqueuedJobSchema } from '../queues/producer.js';
import { CONTRACTS } from '../queues/registry.js';
import type { JobContract } from '../queues/contract.js';
import { VERSION } from '../shared/version.js';
import type { Role } from './auth.js';

/** What the OpenAPI document says about a route; the schemas are the ones the handler validates with. */
export interface RouteDoc {
  summary: string;
  /** Who may call it: a token's role, or nobody in particular (health, metrics). */
  role: Role | 'public';
  params?: Record<string, string>;
  query?: z.ZodType;
  body?: z.ZodType;
  /**
   * Status codes and what each means; a success may name the zod schema of its JSON body (the
   * one the handler's result is typed by), which the document then shows.
   */
  responses: Record<number, string | ResponseDoc>;
  /** Content type of the success response (JSON unless said otherwise). */
  produces?: string;
  /** The operation's id when the one made from its method and path reads badly. */
  operationId?: string;
}

/** A response with the schema of its JSON body. */
export interface ResponseDoc {
  description: string;
  schema: z.ZodType;
  /** Other content types the same response may come as (a `format` parameter picks one), each a text or binary stream. */
  alternatives?: string[];
}

interface DocumentedRoute extends RouteDoc {
  method: 'get' | 'post';
  path: string;
}

/**
 * An Express router that records each route's documentation as it registers it, so the
 * OpenAPI document and the routes cannot drift apart.
 */
export class ApiRouter {
  readonly router = Router();
  readonly routes: DocumentedRoute[] = [];

  constructor(readonly mount = '/api') {}

  get(path: string, doc: RouteDoc, ...handlers: RequestHandler[]): this {
    this.routes.push({ method: 'get', path, ...doc });
    this.router.get(path, ...handlers);
    return this;
  }

  post(path: string, doc: RouteDoc, ...handlers: RequestHandler[]): this {
    this.routes.push({ method: 'post', path, ...doc });
    this.router.post(path, ...handlers);
    return this;
  }
}

/**
 * Sends a route's JSON answer with the body typed by the zod schema its OpenAPI document shows,
 * so the document and the answer cannot drift apart. The schema is for the compiler only: the
 * body is not parsed again at run time.
 */
export function sendJson<S extends z.ZodType>(res: Response, _schema: S, body: z.output<S>, status = 200): void {
  res.status(status).json(body);
}

/** The schema of a success whose body is not JSON (text, an event stream, an image). */
const TEXT_BODY = { type: 'string' };

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output' = 'input') => {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};

/** Express `/jobs/:queue/:id` → OpenAPI `/jobs/{queue}/{id}` */
const openApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

const camel = (words: string[]) =>
  words
    .flatMap((word) => word.split(/[^A-Za-z0-9]+/))
    .filter(Boolean)
    .map((word, i) => (i === 0 ? word.toLowerCase() : word[0].toUpperCase() + word.slice(1)))
    .join('');

/** `get /jobs/:queue/:id/events` → `getJobsByQueueByIdEvents`: unique, since method and path are. */
function operationIdOf(method: string, path: string): string {
  const words = path
    .split('/')
    .filter((segment) => segment !== '' && segment !== 'api')
    .map((segment) => (segment.startsWith(':') ? `by-${segment.slice(1)}` : segment));
  return camel([method, ...words]);
}

/** The tag of a path: its first segment after /api (`/api/jobs/…` → jobs); the root routes are `system`. */
function tagOf(mount: string, path: string): string {
  const first = path.split('/').find((segment) => segment !== '');
  return mount === '' || !first ? 'system' : first;
}

const TAGS: Record<string, string> = {
  jobs: 'Submit jobs, follow them, and act on failed ones',
  bars: 'OHLCV bars, served through the cache',
  universes: 'Universes, their members at a date and their changes',
  scenarios: 'Synthetic scenario runs and their validation reports',
  sandboxes: 'The sandbox schemas scenario runs load into: list and drop them',
  futures: 'Continuous futures series and their roll events',
  patterns: 'Stored pattern detections',
  analytics: 'Pattern outcomes, correlations, regimes and success prediction',
  system: 'Health, readiness, metrics, performance figures, alerts and the audit trail',
};

/** What every route of a role may also answer, besides what the route documents. */
const ROLE_RESPONSES: Record<Role, Record<number, string>> = {
  read: { 401: 'no valid token' },
  write: { 401: 'no valid token', 403: 'a read-only token' },
};

function queryParameters(schema: z.ZodType) {
  const object = jsonSchema(schema) as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  return Object.entries(object.properties ?? {}).map(([name, property]) => ({
    name,
    in: 'query',
    required: object.required?.includes(name) ?? false,
    description: property.description,
    schema: property,
  }));
}

function operation(route: DocumentedRoute & { mount: string }) {
  const parameters = [
    ...Object.entries(route.params ?? {}).map(([name, description]) => ({
      name,
      in: 'path',
      required: true,
      description,
      schema: { type: 'string' },
    })),
    ...(route.query ? queryParameters(route.query) : []),
  ];
  const responses = { ...(route.role === 'public' ? {} : ROLE_RESPONSES[route.role]), ...route.responses };
  const [success] = Object.keys(responses).map(Number).sort();
  return {
    operationId: route.operationId ?? operationIdOf(route.method, `${route.mount}${route.path}`),
    tags: [tagOf(route.mount, route.path)],
    summary: route.summary,
    ...(route.role === 'public' ? { security: [] } : { 'x-required-role': route.role }),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body
      ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(route.body) } } } }
      : {}),
    responses: Object.fromEntries(
      Object.entries(responses).map(([status, response]) => {
        const { description, schema, alternatives = [] }: Partial<ResponseDoc> =
          typeof response === 'string' ? { description: response } : response;
        if (Number(status) === success && route.produces) {
          return [status, { description, content: { [route.produces]: { schema: TEXT_BODY } } }];
        }
        const body = schema ? jsonSchema(schema, 'output') : Number(status) >= 400 ? { $ref: '#/components/schemas/Error' } : {};
        const content = {
          'application/json': { schema: body },
          ...Object.fromEntries(alternatives.map((type) => [type, { schema: TEXT_BODY }])),
        };
        return [status, { description, content }];
      }),
    ),
  };
}

/** The OpenAPI 3.1 document of the HTTP API: every documented route plus one submit path per job. */
export function openApiDocument(routers: ApiRouter[]) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const job of CONTRACTS as readonly JobContract[]) {
    if (job.internal) continue;
    paths[`/api/jobs/${job.name}`] = {
      post: operation({
        method: 'post',
        mount: '/api',
        path: `/jobs/${job.name}`,
        operationId: camel(['enqueue', job.name]),
        summary: `${job.description} (queue ${job.queue})`,
        role: 'write',
        body: job.schema,
        responses: {
          202: { description: 'enqueued', schema: enqueuedJobSchema },
          400: 'the payload fails the schema; issues name each field',
          401: 'no valid token',
          403: 'read-only token',
          409: 'the Idempotency-Key was already used with a different payload',
          429: 'enqueue rate limit reached; see Retry-After',
          503: 'Redis unreachable',
        },
      }),
    };
  }
  for (const router of routers) {
    for (const route of router.routes) {
      const path = `${router.mount}${openApiPath(route.path)}`;
      paths[path] = { ...paths[path], [route.method]: operation({ ...route, mount: router.mount }) };
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'tickforge',
      version: VERSION,
      description: 'Batch jobs for market data: submit, follow and query.',
    },
    servers: [{ url: '/', description: 'the web process serving this document' }],
    tags: Object.entries(TAGS).map(([name, description]) => ({ name, description })),
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: { type: 'string' },
            issues: {
              type: 'array',
              items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } },
            },
          },
        },
      },
    },
    security: [{ bearer: [] }],
    paths,
  };
}
