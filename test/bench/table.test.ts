import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import { readRun } from '../../bench/compare.js';
import { BENCHMARKS_DOC, REFERENCE, benchTable, withTable } from '../../bench/table.js';

describe('benchmark table', () => {
  it('should show in docs/benchmarks.md exactly the figures of the recorded run bench/reference.json', async () => {
    const doc = await readFile(BENCHMARKS_DOC, 'utf8');
    const table = benchTable(await readRun(REFERENCE), 'bench/reference.json');
    expect(withTable(doc, table)).to.equal(doc);
  });

  it('should state the run count and spread of each figure, and say when a run did not record them', () => {
    const table = benchTable(
      {
        node: 'v20.20.2',
        machine: '2 × cpu',
        startedAt: '2026-12-02T00:00:00.000Z',
        figures: [
          {
            bench: 'foundation',
            section: 's',
            what: 'upsert',
            value: 12,
            unit: 'rows/s',
            runs: 5,
            spread: { low: 10, high: 14 },
            baseline: { what: 'knex', value: 8, runs: 5, spread: { low: 7, high: 9 } },
            ratio: 1.5,
          },
          { bench: 'universes', section: 's', what: 'sync', value: 0.5, unit: 's', runs: 1 },
          { bench: 'universes', section: 's', what: 'older', value: 2, unit: 's' },
        ],
      },
      'bench/reference.json',
    );
    expect(table).to.include(
      '| foundation | upsert | 12.0 rows/s (median of 5 runs, 10.0–14.0) | knex: 8.00 rows/s (median of 5 runs, 7.00–9.00) | 1.50× |',
    );
    expect(table).to.include('| universes | sync | 0.500 s (1 run) | — |  |');
    expect(table).to.include('| universes | older | 2.00 s (runs not recorded) | — |  |');
  });
});
