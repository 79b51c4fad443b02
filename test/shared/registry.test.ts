import { expect } from 'chai';
import { HANDLERS, RegistryError, pairHandlers } from '../../jobs/index.js';
import type { JobHandler } from '../../jobs/handler.js';
import { noopHandler } from '../../jobs/shared/noop.job.js';
import type { JobContract } from '../../src/queues/contract.js';
import { CONTRACTS } from '../../src/queues/registry.js';

const contracts = CONTRACTS as readonly JobContract[];

describe('job registry', () => {
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
