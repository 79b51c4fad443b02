import { expect } from 'chai';
import { JOBS, RegistryError, buildRegistry, registry } from '../../jobs/index.js';
import type { JobDefinition } from '../../jobs/define.js';
import { noopJob } from '../../jobs/shared/noop.job.js';

describe('job registry', () => {
  it('should index every job kind by its name', () => {
    expect([...registry.keys()]).to.deep.equal(JOBS.map((job) => job.name));
  });

  it('should refuse a job name with two handlers', () => {
    expect(() => buildRegistry([noopJob, { ...noopJob }] as JobDefinition[])).to.throw(
      RegistryError,
      /job noop has two handlers/,
    );
  });

  it('should refuse a job without a handler', () => {
    const broken = { ...noopJob, name: 'broken', handle: undefined } as unknown as JobDefinition;
    expect(() => buildRegistry([noopJob, broken] as JobDefinition[])).to.throw(RegistryError, /job broken has no handler/);
  });
});
