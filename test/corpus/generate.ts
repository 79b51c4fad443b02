/**
 * Regenerates test/corpus/payloads.generated.jsonl: for every job kind, payloads that break its
 * schema one field at a time (wrong types, out-of-range numbers, values outside enums, strings
 * with SQL and shell metacharacters where a pattern is required, unknown fields, missing
 * required fields). Run with `npm run corpus` after changing a job's schema; the test reads
 * the committed file.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { JobContract } from '../../src/queues/contract.js';
import { CONTRACTS } from '../../src/queues/registry.js';

interface Property {
  type?: string | string[];
  description?: string;
  enum?: unknown[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  maxItems?: number;
  items?: Property;
  anyOf?: Property[];
}

export interface PayloadCase {
  job: string;
  /** What the case breaks, for the test's name. */
  breaks: string;
  payload: unknown;
  /** The issue path the 400 must name ('' for the payload as a whole). */
  field: string;
  /** Words the issue's message must contain, when the path alone does not say what is wrong. */
  mentions?: string;
}

const HOSTILE = ["SPY'; DROP TABLE bars; --", '$(rm -rf /)', '`reboot`', '../../etc/passwd', 'A\u0000B', '<script>x</script>'];

/** A payload that passes the schema, to mutate one field at a time. */
const VALID: Record<string, Record<string, unknown>> = {
  'import-bars': { symbol: 'SPY', timeframe: '1m', csv: 'ts,open,high,low,close,volume\n' },
  'eod-pipeline': { date: '2024-01-02' },
  noop: {},
  'import-futures': { csv: 'contract,contract_month,date,open,high,low,close,volume,open_interest\n' },
  'build-continuous': { root: 'ES', roll: 'volume', adjust: 'ratio' },
  'import-symbols': { rows: [{ symbol: 'SPY', kind: 'etf' }] },
  'eod-sync': { date: '2024-01-02' },
  'eod-sync-task': { date: '2024-01-02', task: 'market_cap_recalculation', runId: 'run-1' },
  'eod-trigger': { date: '2024-01-02' },
  'generate-scenario': { scenario: 'crash_2020', count: 2, seed: 7 },
  'aggregate-bars': { symbols: ['SPY'], source: '1m', from: '2013-10-07', to: '2013-10-08' },
  'warm-cache': { top: 10 },
  'export-bars': { symbols: 'SPY', timeframe: '1d', from: '2013-01-01', to: '2013-12-31' },
  backup: {},
  'detect-patterns': { symbols: ['SPY'], timeframe: '1d' },
  'analyze-patterns': { symbols: ['SPY'], successHorizon: 5 },
};

/** Jobs whose array fields share a schema with query strings, so a string is a valid list. */
const COMMA_LISTS = new Set(['analyze-patterns']);

/** Values a schema must refuse that no mechanical mutation finds: each broke a later step once. */
const HAND_WRITTEN: PayloadCase[] = [
  { job: 'eod-sync', breaks: 'a session after today in New York', payload: { date: '2030-12-30' }, field: 'date' },
  { job: 'eod-pipeline', breaks: 'a session after today in New York', payload: { date: '2030-12-30' }, field: 'date' },
  { job: 'eod-sync', breaks: 'a weekday before the calendar begins (1990)', payload: { date: '1989-12-29' }, field: 'date' },
  { job: 'eod-sync', breaks: 'a weekday the exchange was closed (Nixon funeral)', payload: { date: '1994-04-27' }, field: 'date' },
  {
    job: 'aggregate-bars',
    breaks: 'a to date past the years a bar can have',
    payload: { symbols: ['SPY'], source: '1m', from: '2013-10-07', to: '9999-12-31' },
    field: 'to',
  },
  {
    job: 'warm-cache',
    breaks: 'a query whose to date is past the years a bar can have',
    payload: { queries: [{ symbol: 'SPY', timeframe: '1d', to: '9999-12-31' }] },
    field: 'queries.0.to',
  },
  {
    job: 'export-bars',
    breaks: 'a from after its to',
    payload: { symbols: 'SPY', timeframe: '1d', from: '2014-01-01', to: '2013-01-01' },
    field: 'from',
  },
  {
    job: 'detect-patterns',
    breaks: 'a from date before the years a bar can have',
    payload: { symbols: ['SPY'], from: '0001-01-01' },
    field: 'from',
  },
];

function wrongTypes(property: Property): unknown[] {
  const types = new Set([property.type ?? property.anyOf?.map((p) => p.type)].flat().filter(Boolean) as string[]);
  const candidates: Array<[string, unknown]> = [
    ['string', 'not-a-number'],
    ['number', 12.5],
    ['integer', 7],
    ['boolean', true],
    ['object', { nested: { deeper: 1 } }],
    ['array', [1, 2, 3]],
    ['null', null],
  ];
  // An integer is also a number; a fraction is still wrong for an integer field.
  // A list field also takes its items comma-separated in one string (for query strings).
  const commaSeparated = property.description?.includes('comma-separated') ?? false;
  const accepted = (type: string) =>
    types.has(type) || (type === 'integer' && types.has('number')) || (type === 'string' && commaSeparated);
  return candidates.filter(([type]) => !accepted(type)).map(([, value]) => value);
}

function mutations(property: Property): Array<{ breaks: string; value: unknown }> {
  const out = wrongTypes(property).map((value) => ({ breaks: `a ${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value}`, value }));
  if (property.enum) {
    out.push({ breaks: 'a value outside the enum', value: 'not-in-the-enum' });
    // A different letter case is a different value, unless it happens to be a member too (1m and 1M).
    const recased = property.enum.map(String).flatMap((value) => [value.toUpperCase(), value.toLowerCase()]);
    const wrongCase = recased.find((value) => !property.enum!.includes(value));
    if (wrongCase !== undefined) out.push({ breaks: 'an enum value in the wrong case', value: wrongCase });
  }
  if (property.pattern) for (const value of HOSTILE) out.push({ breaks: `metacharacters ${JSON.stringify(value)}`, value });
  if (property.type === 'string' && property.pattern) out.push({ breaks: 'an empty string', value: '' });
  if (property.minimum !== undefined) out.push({ breaks: 'a number below the minimum', value: property.minimum - 1 });
  if (property.maximum !== undefined) out.push({ breaks: 'a number above the maximum', value: property.maximum + 1 });
  if (property.type === 'integer') out.push({ breaks: 'a fraction', value: 1.5 });
  if (property.maxLength !== undefined && property.maxLength <= 100_000) out.push({ breaks: 'a string over the length limit', value: 'x'.repeat(property.maxLength + 1) });
  if (property.maxItems !== undefined) out.push({ breaks: 'an array over the size limit', value: Array.from({ length: property.maxItems + 1 }, () => 'SPY') });
  if (property.type === 'array' && property.items?.pattern) out.push({ breaks: 'an array with a hostile element', value: [HOSTILE[0]] });
  return out;
}

export function generatePayloadCases(): PayloadCase[] {
  const cases: PayloadCase[] = [];
  for (const job of CONTRACTS as readonly JobContract[]) {
    // Internal jobs are refused by name before their schema is read (see bodies.jsonl).
    if (job.internal) continue;
    const schema = z.toJSONSchema(job.schema, { io: 'input', unrepresentable: 'any' }) as {
      properties?: Record<string, Property>;
      required?: string[];
    };
    const valid = VALID[job.name];
    if (!valid) throw new Error(`no valid example payload for job ${job.name}: add one to VALID`);
    cases.push(
      { job: job.name, breaks: 'an unknown field', payload: { ...valid, unexpected: 1 }, field: '', mentions: '"unexpected"' },
      { job: job.name, breaks: 'an array instead of an object', payload: [valid], field: '', mentions: 'expected object, received array' },
      { job: job.name, breaks: 'a string instead of an object', payload: 'payload', field: '', mentions: 'expected object, received string' },
      { job: job.name, breaks: 'null instead of an object', payload: null, field: '', mentions: 'expected object, received null' },
      { job: job.name, breaks: 'a number instead of an object', payload: 42, field: '', mentions: 'expected object, received number' },
    );
    for (const name of schema.required ?? []) {
      const { [name]: _dropped, ...rest } = valid;
      cases.push({ job: job.name, breaks: `missing required ${name}`, payload: rest, field: name });
    }
    for (const [name, property] of Object.entries(schema.properties ?? {})) {
      for (const { breaks, value } of mutations(property)) {
        // Its lists also take the comma-separated form of a query string.
        if (COMMA_LISTS.has(job.name) && property.type === 'array' && typeof value === 'string') continue;
        cases.push({ job: job.name, breaks: `${name} as ${breaks}`, payload: { ...valid, [name]: value }, field: name });
      }
    }
  }
  // A case the schema accepts would prove nothing: refuse to write it.
  const all = [...cases, ...HAND_WRITTEN];
  const accepted = all.filter((c) => CONTRACTS.find((job) => job.name === c.job)!.schema.safeParse(c.payload).success);
  if (accepted.length > 0) throw new Error(`cases the schema accepts: ${accepted.map((c) => `${c.job} with ${c.breaks}`).join('; ')}`);
  return all;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const target = fileURLToPath(new URL('../../../test/corpus/payloads.generated.jsonl', import.meta.url));
  const cases = generatePayloadCases();
  writeFileSync(target, cases.map((c) => JSON.stringify(c)).join('\n') + '\n');
  process.stdout.write(`wrote ${cases.length} payload cases to ${target}\n`);
}
