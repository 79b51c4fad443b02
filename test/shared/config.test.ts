import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { ConfigError, loadConfig, settingsTable } from '../../src/shared/config.js';

describe('config', () => {
  it('should work with no environment at all, pointing at the local services', () => {
    const config = loadConfig({});
    expect(config.databaseUrl).to.equal('postgres://postgres@127.0.0.1:5432/tickforge');
    expect(config.redisUrl).to.equal('redis://127.0.0.1:6379');
    expect(config.port).to.equal(3000);
    expect(config.poolThreads).to.be.at.least(1);
  });

  it('should name every variable that holds an unusable value', () => {
    const load = () =>
      loadConfig({ PORT: '70000', DATABASE_URL: 'mysql://x', TICKFORGE_PREFIX: 'a:b', TICKFORGE_API_TOKEN: 'short' });
    expect(load).to.throw(ConfigError);
    expect(load).to.throw(/PORT="70000"/);
    expect(load).to.throw(/DATABASE_URL="mysql:\/\/x": must be a URL starting with postgres:\/\//);
    expect(load).to.throw(/TICKFORGE_PREFIX="a:b"/);
    expect(load).to.throw(/TICKFORGE_API_TOKEN="<5 characters>": must be at least 16 characters/);
  });

  it('should never print a password or a token in its messages', () => {
    const load = () => loadConfig({ DATABASE_URL: 'postgres://ops:hunter2@db:99999/x', REDIS_URL: 'redis://:s3cret@h:99999' });
    expect(load).to.throw(/REDIS_URL="redis:\/\/:\*\*\*@h:99999"/);
    expect(load).to.throw(/DATABASE_URL="postgres:\/\/ops:\*\*\*@db:99999\/x"/);
    try {
      load();
    } catch (error) {
      expect((error as Error).message).not.to.match(/hunter2|s3cret/);
    }
  });

  it('should let imports read only a dedicated directory and the sample data by default, never the working or temporary directory', () => {
    const config = loadConfig({ TICKFORGE_DATA_DIR: '/srv/sample' });
    expect(config.importRoots).to.deep.equal([path.resolve('imports'), '/srv/sample']);
    expect(config.importRoots).not.to.include(process.cwd());
    expect(config.importRoots).not.to.include(os.tmpdir());
  });

  it('should read lists and flags', () => {
    const config = loadConfig({ TICKFORGE_QUEUES: 'ingest,aggregate', TICKFORGE_INSECURE_DEV: '1' });
    expect(config.queues).to.deep.equal(['ingest', 'aggregate']);
    expect(config.insecureDev).to.equal(true);
  });
});

describe('configuration docs', () => {
  it('should list exactly the variables of the settings table', () => {
    const docs = readFileSync(fileURLToPath(new URL('../../../docs/configuration.md', import.meta.url)), 'utf8');
    const documented = [...docs.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \|/gm)].map((match) => match[1]);
    expect(documented.sort()).to.deep.equal(
      settingsTable()
        .map((setting) => setting.env)
        .sort(),
    );
  });
});
