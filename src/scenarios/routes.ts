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
import { ApiRouter } from '../api/openapi.js';
import { runSeries } from './run-series.js';
import { sandboxNameSchema } from './generate-scenario.contract.js';
import { NYSE } from '../shared/calendar.js';
import { rangeBoundSchema, resolveBound } from '../bars/ranges.js';

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

const chartQuerySchema = z
  .object({
    symbol: symbolSchema.optional(),
    timeframe: timeframeSchema.optional(),
  })
  .strict();

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
      responses: { 200: 'the run', 400: 'a bad id or parameter, named', 404: 'no such run, or symbol not in it' },
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
      res.json({
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
        200: '{id, symbol, timeframe, bars, phases}',
        400: 'a bad parameter, or a range of too many bars',
        404: 'no such run or symbol',
        409: 'the bars were replaced by a later run',
      },
    },
    requireRole('read', tokens),
    async (req: Request, res: Response) => {
      const id = parseOrThrow(runIdSchema, req.params.id, 'run id');
      const query = parseOrThrow(seriesQuerySchema, req.query, 'query');
      const from = query.from !== undefined ? resolveBound(query.from, 'from', 'regular', NYSE) : undefined;
      const to = query.to !== undefined ? resolveBound(query.to, 'to', 'regular', NYSE) : undefined;
      const series = await runSeries(store, id, { symbol: query.symbol, timeframe: query.timeframe, from, to });
      const iso = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString() : null);
      res.json({
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
      summary: 'An SVG candlestick chart with volume of one symbol of a run',
      role: 'read',
      params: runParam,
      query: chartQuerySchema,
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
      const query = parseOrThrow(chartQuerySchema, req.query, 'query');
      const { svg } = await runChart(store, id, query);
      res.type('image/svg+xml').set('Cache-Control', 'no-cache').send(svg);
    },
  );

  routes.get(
    '/sandboxes',
    {
      summary: 'The sandbox schemas scenario runs created: name, creation time, tables and symbols',
      role: 'read',
      responses: { 200: '{sandboxes: [{schema, createdAt, tables, symbols}], limit}' },
    },
    requireRole('read', tokens),
    async (_req: Request, res: Response) => {
      res.json({ sandboxes: await store.sandboxes.list(), limit: sandboxLimit });
    },
  );

  routes.post(
    '/sandboxes/:schema/drop',
    {
      summary: 'Drop a sandbox schema and every table in it (never the production schema or one scenario runs did not create)',
      role: 'write',
      params: { schema: 'sandbox schema name' },
      responses: {
        200: 'the schema dropped: {schema, createdAt, tables, symbols}',
        400: 'not a schema name',
        404: 'no such sandbox schema',
      },
    },
    requireRole('write', tokens),
    async (req: Request, res: Response) => {
      const schema = parseOrThrow(sandboxNameSchema, req.params.schema, 'schema');
      res.json(await store.sandboxes.drop(schema));
    },
  );

  return routes;
}
