import type { Request, Response } from 'express';
import { z } from 'zod';
import type { Store } from '../store/store.js';
import type { SymbolReport } from './validation.js';
import { symbolSchema } from '../shared/symbols.js';
import { timeframeSchema } from '../bars/timeframes.js';
import { runChart } from './run-chart.js';
import { parseOrThrow } from '../shared/validation.js';
import { requireRole, type Tokens } from '../api/auth.js';
import { NotFoundError } from '../shared/errors.js';
import { ApiRouter, sendJson } from '../api/openapi.js';
import { runSeries } from './run-series.js';
import { sandboxNameSchema } from './generate-scenario.contract.js';
import { NYSE } from '../shared/calendar.js';
import { rangeBoundSchema, resolveRange } from '../bars/ranges.js';

const runIdSchema = z
  .string()
  .regex(/^[a-z0-9_]+-[0-9a-f]{16}$/, 'must be a scenario run id such as crash_2020-0123456789abcdef');

const runQuerySchema = z.object({ symbol: symbolSchema.optional().describe('only this symbol’s report') }).strict();

const seriesQuerySchema = z
  .object({
    symbol: symbolSchema.optional(),
    timeframe: timeframeSchema.optional(),
    from: rangeBoundSchema.optional(),
    to: rangeBoundSchema.optional(),
  })
  .strict();

const runSchema = z.object({
  id: z.string(),
  scenario: z.string(),
  seed: z.number().int(),
  generatorVersion: z.string(),
  params: z.record(z.string(), z.unknown()),
  symbols: z.array(z.string()),
  timeframe: z.string(),
  targets: z.array(z.string()).describe('the timeframes aggregated from the simulated bars'),
  start: z.string().describe('first session date'),
  sessions: z.number().int(),
  schema: z.string().describe('the PostgreSQL schema the bars were loaded into'),
  series: z.array(z.object({ timeframe: z.string(), variant: z.string(), rows: z.number().int() })),
  passed: z.boolean(),
  failedChecks: z.array(z.string()),
  report: z.unknown().describe('the validation report: targets and stylized facts per symbol'),
  diagnostics: z.unknown(),
  jobId: z.string().nullable(),
  createdAt: z.string(),
  loadedAt: z.string(),
  chart: z.string().describe('the SVG chart of the first (or asked-for) symbol'),
});

const seriesSchema = z.object({
  id: z.string(),
  symbol: z.string(),
  timeframe: z.string(),
  bars: z.array(
    z.object({
      ts: z.string().nullable(),
      open: z.number(),
      high: z.number(),
      low: z.number(),
      close: z.number(),
      volume: z.number(),
    }),
  ),
  phases: z.array(
    z.object({
      name: z.string(),
      meaning: z.enum(['up', 'down', 'crash', 'flat']).describe('what the phase does to the price'),
      from: z.string().nullable(),
      to: z.string().nullable(),
    }),
  ),
});

/** from/to of a series or chart query as instants, a date read as a whole regular-session day in New York. */
const runRange = (query: z.output<typeof seriesQuerySchema>) => resolveRange(query, 'regular', NYSE);

const sandboxSchemaView = z.object({
  schema: z.string(),
  createdAt: z.string().nullable().describe('ISO-8601; null for a schema created before tickforge recorded it'),
  tables: z.number().int(),
  symbols: z.number().int().describe('symbols whose bars it holds'),
});

const sandboxesSchema = z.object({
  sandboxes: z.array(sandboxSchemaView),
  limit: z.number().int().describe('TICKFORGE_SANDBOX_SCHEMA_LIMIT'),
});

/**
 * GET /api/scenarios/:id (the run and its validation report), /api/scenarios/:id/chart (SVG),
 * and the sandbox schemas: GET /api/sandboxes, POST /api/sandboxes/:schema/drop.
 */
export function scenariosRouter(store: Store, tokens: Tokens, sandboxLimit: number): ApiRouter {
  const routes = new ApiRouter();
  const runs = store.scenarioRuns;
  const runParam = { id: 'scenario run id, such as crash_2020-0123456789abcdef' };

  routes.get(
    '/scenarios/:id',
    {
      summary: 'A scenario run: scenario, seed, parameters, generator version, symbols and its validation report',
      role: 'read',
      params: runParam,
      query: runQuerySchema,
      responses: {
        200: { description: 'the run', schema: runSchema },
        400: 'a bad id or parameter, named',
        404: 'no such run, or symbol not in it',
      },
    },
    requireRole('read', tokens),
    async (req: Request, res: Response) => {
      const id = parseOrThrow(runIdSchema, req.params.id, 'run id');
      const query = parseOrThrow(runQuerySchema, req.query, 'query');
      const run = await runs.find(id);
      if (!run) throw new NotFoundError(`no scenario run ${id}`);
      const report = run.report as { symbols: SymbolReport[] };
      if (query.symbol !== undefined && !run.symbols.includes(query.symbol)) {
        throw new NotFoundError(`symbol ${query.symbol} is not part of run ${id}`);
      }
      sendJson(res, runSchema, {
        id: run.id,
        scenario: run.scenario,
        seed: run.seed,
        generatorVersion: run.generator_version,
        params: run.params,
        symbols: run.symbols,
        timeframe: run.timeframe,
        targets: run.targets,
        start: run.start_date,
        sessions: run.sessions,
        schema: run.target_schema,
        series: run.series,
        passed: run.passed,
        failedChecks: run.failed_checks,
        report:
          query.symbol === undefined ? report : { ...report, symbols: report.symbols.filter((s) => s.symbol === query.symbol) },
        diagnostics: run.diagnostics,
        jobId: run.job_id,
        createdAt: run.created_at.toISOString(),
        loadedAt: run.loaded_at.toISOString(),
        chart: `/api/scenarios/${run.id}/chart?symbol=${encodeURIComponent(query.symbol ?? run.symbols[0])}`,
      });
    },
  );

  routes.get(
    '/scenarios/:id/bars',
    {
      summary: 'One symbol’s bars of a run over a range, with the scenario’s phases on the calendar (what the console draws)',
      role: 'read',
      params: runParam,
      query: seriesQuerySchema,
      responses: {
        200: { description: 'the bars and the phases', schema: seriesSchema },
        400: 'a bad parameter, or a range of too many bars',
        404: 'no such run or symbol',
        409: 'the bars were replaced by a later run',
      },
    },
    requireRole('read', tokens),
    async (req: Request, res: Response) => {
      const id = parseOrThrow(runIdSchema, req.params.id, 'run id');
      const query = parseOrThrow(seriesQuerySchema, req.query, 'query');
      const series = await runSeries(store, id, { symbol: query.symbol, timeframe: query.timeframe, ...runRange(query) });
      const iso = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString() : null);
      sendJson(res, seriesSchema, {
        id: series.run.id,
        symbol: series.symbol,
        timeframe: series.timeframe,
        bars: series.bars.map((bar) => ({ ...bar, ts: iso(bar.ts) })),
        phases: series.phases.map((phase) => ({ ...phase, from: iso(phase.from), to: iso(phase.to) })),
      });
    },
  );

  routes.get(
    '/scenarios/:id/chart',
    {
      summary:
        'An SVG candlestick chart with volume and phases of one symbol of a run, over from/to or the whole run (its latest 1,500 bars when longer)',
      role: 'read',
      params: runParam,
      query: seriesQuerySchema,
      produces: 'image/svg+xml',
      responses: {
        200: 'the chart',
        400: 'a bad parameter, named',
        404: 'no such run or symbol',
        409: 'the bars were replaced by a later run',
      },
    },
    requireRole('read', tokens),
    async (req: Request, res: Response) => {
      const id = parseOrThrow(runIdSchema, req.params.id, 'run id');
      const query = parseOrThrow(seriesQuerySchema, req.query, 'query');
      const { svg } = await runChart(store, id, { symbol: query.symbol, timeframe: query.timeframe, ...runRange(query) });
      res.type('image/svg+xml').set('Cache-Control', 'no-cache').send(svg);
    },
  );

  routes.get(
    '/sandboxes',
    {
      summary: 'The sandbox schemas scenario runs created: name, creation time, tables and symbols',
      role: 'read',
      responses: { 200: { description: 'the sandbox schemas and the limit', schema: sandboxesSchema } },
    },
    requireRole('read', tokens),
    async (_req: Request, res: Response) => {
      sendJson(res, sandboxesSchema, { sandboxes: await store.sandboxes.list(), limit: sandboxLimit });
    },
  );

  routes.post(
    '/sandboxes/:schema/drop',
    {
      summary: 'Drop a sandbox schema and every table in it (never the production schema or one scenario runs did not create)',
      role: 'write',
      params: { schema: 'sandbox schema name' },
      responses: {
        200: { description: 'the schema dropped', schema: sandboxSchemaView },
        400: 'not a schema name',
        404: 'no such sandbox schema',
      },
    },
    requireRole('write', tokens),
    async (req: Request, res: Response) => {
      const schema = parseOrThrow(sandboxNameSchema, req.params.schema, 'schema');
      sendJson(res, sandboxSchemaView, await store.sandboxes.drop(schema));
    },
  );

  return routes;
}
