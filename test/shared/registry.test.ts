import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { HANDLERS, RegistryError, pairHandlers } from '../../jobs/index.js';
import type { JobHandler } from '../../jobs/handler.js';
import { noopHandler } from '../../jobs/shared/noop.job.js';
import type { JobContract } from '../../src/queues/contract.js';
import { CONTRACTS } from '../../src/queues/registry.js';

const contracts = CONTRACTS as readonly JobContract[];

/** The exports of every compiled module under `dir` whose file name ends with `suffix`. */
async function exportsOf(dir: string, suffix: string): Promise<unknown[]> {
  const root = fileURLToPath(new URL(dir, import.meta.url));
  const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith(suffix));
  expect(files, `${suffix} files under ${dir}`).to.not.be.empty;
  const modules = await Promise.all(
    files.map((file) => import(new URL(`${dir}${file}`, import.meta.url).href) as Promise<object>),
  );
  return modules.flatMap((module) => Object.values(module));
}

describe('job registry', () => {
  it('should register every contract and handler the source tree defines', async () => {
    const defined = (await exportsOf('../../src/', '.contract.js')).filter(
      (value): value is JobContract => typeof value === 'object' && value !== null && 'schema' in value && 'queue' in value,
    );
    const handlers = (await exportsOf('../../jobs/', '.job.js')).filter(
      (value): value is JobHandler => typeof value === 'object' && value !== null && 'contract' in value && 'handle' in value,
    );
    expect(
      defined.filter((contract) => !contracts.includes(contract)).map((c) => c.name),
      'unregistered contracts',
    ).to.deep.equal([]);
    expect(
      contracts.filter((contract) => !defined.includes(contract)).map((c) => c.name),
      'contracts from nowhere',
    ).to.deep.equal([]);
    expect(
      handlers.filter((handler) => !HANDLERS.includes(handler)).map((h) => h.contract.name),
      'unregistered handlers',
    ).to.deep.equal([]);
    expect(
      HANDLERS.filter((handler) => !handlers.includes(handler)).map((h) => h.contract.name),
      'handlers from nowhere',
    ).to.deep.equal([]);
  });

  it('should pair every contract with exactly one handler of the same name', () => {
    const paired = pairHandlers(contracts, HANDLERS);
    expect([...paired.keys()].sort()).to.deep.equal(contracts.map((contract) => contract.name).sort());
    for (const contract of contracts) expect(paired.get(contract.name)!.contract).to.equal(contract);
  });

  it('should refuse a contract with two handlers', () => {
    expect(() => pairHandlers(contracts, [...HANDLERS, { ...noopHandler } as JobHandler])).to.throw(
      RegistryError,
      /job noop has two handlers/,
    );
  });

  it('should refuse a contract without a handler, naming it', () => {
    const withoutNoop = HANDLERS.filter((handler) => handler.contract.name !== 'noop');
    expect(() => pairHandlers(contracts, withoutNoop)).to.throw(RegistryError, /job noop has no handler/);
  });

  it('should refuse a handler whose contract is not in the registry', () => {
    const stray = { ...noopHandler, contract: { ...noopHandler.contract, name: 'stray' } } as JobHandler;
    expect(() => pairHandlers(contracts, [...HANDLERS, stray])).to.throw(RegistryError, /handler for stray has no contract/);
  });
});
