import { expect } from 'chai';
import { startWebServer, type WebServer } from '../../src/api/server.js';
import { ident } from '../../src/shared/db.js';
import { createLogger } from '../../src/shared/logger.js';
import { TEST_TOKEN } from '../helpers/config.js';
import { startProcess } from '../helpers/process.js';
import { TestSystem } from '../helpers/system.js';

interface SandboxView {
  schema: string;
  createdAt: string | null;
  tables: number;
  symbols: number;
}

describe('sandbox schemas', function () {
  let system: TestSystem;
  let web: WebServer;
  let sandbox: string;
  const auth = { authorization: `Bearer ${TEST_TOKEN}` };
  const LIMIT = 2;

  before(async () => {
    system = await TestSystem.create({ sandboxSchemaLimit: LIMIT });
    sandbox = system.config.sandboxSchema;
    await system.startWorker();
    web = await startWebServer(system.config, createLogger('test-web', 'silent'), '127.0.0.1');
  });

  after(async () => {
    await web.close();
    for (const suffix of ['a', 'b', 'c', 'fail'])
      await system.db.raw(`DROP SCHEMA IF EXISTS ${ident(`${sandbox}_${suffix}`)} CASCADE`);
    await system.close();
  });

  const schemaExists = async (schema: string) =>
    (await system.db.raw<{ rows: unknown[] }>('SELECT 1 FROM pg_namespace WHERE nspname = ?', [schema])).rows.length === 1;

  const listed = async (): Promise<SandboxView[]> => {
    const response = await fetch(`${web.url}/api/sandboxes`, { headers: auth });
    expect(response.status).to.equal(200);
    const body = (await response.json()) as { sandboxes: SandboxView[]; limit: number };
    expect(body.limit).to.equal(LIMIT);
    return body.sandboxes.filter((entry) => entry.schema.startsWith(sandbox));
  };

  const run = (schema: string, seed = 1) => system.run('generate-scenario', { scenario: 'crash_2020', count: 1, seed, schema });

  it('should refuse a run into a new sandbox schema beyond the limit, naming the limit, and still load into existing ones', async () => {
    const started = new Date().toISOString();
    await run(`${sandbox}_a`);
    await run(`${sandbox}_b`);
    const refused = await run(`${sandbox}_c`).catch((error: Error) => error);
    expect((refused as Error).message).to.match(
      new RegExp(`cannot create sandbox schema ${sandbox}_c: 2 sandbox schemas exist and TICKFORGE_SANDBOX_SCHEMA_LIMIT is 2`),
    );
    expect(await schemaExists(`${sandbox}_c`)).to.equal(false);
    await run(`${sandbox}_a`, 2);

    const sandboxes = await listed();
    expect(sandboxes.map((entry) => entry.schema)).to.deep.equal([`${sandbox}_a`, `${sandbox}_b`]);
    for (const entry of sandboxes) {
      expect(entry.createdAt! >= started && entry.createdAt! <= new Date().toISOString(), entry.schema).to.equal(true);
      expect(entry.tables).to.be.above(2);
      expect(entry.symbols).to.equal(1);
    }
  });

  it('should drop a sandbox schema through the API and the CLI, and refuse what is not a sandbox', async () => {
    const { runId } = (await run(`${sandbox}_b`)).result;
    const dropped = await fetch(`${web.url}/api/sandboxes/${sandbox}_b/drop`, { method: 'POST', headers: auth });
    expect(dropped.status).to.equal(200);
    expect(((await dropped.json()) as SandboxView).schema).to.equal(`${sandbox}_b`);
    expect(await schemaExists(`${sandbox}_b`)).to.equal(false);
    const chart = await fetch(`${web.url}/api/scenarios/${runId}/chart`, { headers: auth });
    expect(chart.status).to.equal(409);
    expect(((await chart.json()) as { error: string }).error).to.match(/load run .* again/);
    const again = await fetch(`${web.url}/api/sandboxes/${sandbox}_b/drop`, { method: 'POST', headers: auth });
    expect(again.status).to.equal(404);
    const production = await fetch(`${web.url}/api/sandboxes/${system.config.dbSchema}/drop`, { method: 'POST', headers: auth });
    expect(production.status).to.equal(404);
    expect(await schemaExists(system.config.dbSchema)).to.equal(true);
    const badName = await fetch(`${web.url}/api/sandboxes/Robert'%3B%20DROP/drop`, { method: 'POST', headers: auth });
    expect(badName.status).to.equal(400);

    const list = startProcess('cli', system.config, ['sandboxes', '--json']);
    const { code } = await list.exited;
    expect(code, list.stderr.join('')).to.equal(0);
    expect(list.lines.map((line) => line.msg ?? '').join('\n')).to.include(`"schema": "${sandbox}_a"`);
    const drop = startProcess('cli', system.config, ['sandboxes', 'drop', `${sandbox}_a`]);
    expect((await drop.exited).code, drop.stderr.join('')).to.equal(0);
    expect(await schemaExists(`${sandbox}_a`)).to.equal(false);
    const missing = startProcess('cli', system.config, ['sandboxes', 'drop', `${sandbox}_a`]);
    expect((await missing.exited).code).to.equal(1);
    expect(missing.stderr.join('')).to.include(`no sandbox schema ${sandbox}_a`);
    expect(await listed()).to.deep.equal([]);
  });

  it('should leave no schema behind when a run fails after creating its tables and writing its bars', async () => {
    // A real failure inside the load: the production scenario_runs insert raises for this seed.
    await system.db.raw(`
      CREATE FUNCTION ${ident(system.config.dbSchema)}.refuse_seed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.seed = 666 THEN RAISE EXCEPTION 'refused for the test' USING ERRCODE = '22023'; END IF;
        RETURN NEW;
      END $$`);
    await system.db.raw(`
      CREATE TRIGGER refuse_seed BEFORE INSERT ON ${ident(system.config.dbSchema)}.scenario_runs
      FOR EACH ROW EXECUTE FUNCTION ${ident(system.config.dbSchema)}.refuse_seed()`);
    try {
      const failed = await run(`${sandbox}_fail`, 666).catch((error: Error) => error);
      expect((failed as Error).message).to.match(/refused for the test/);
      expect(await schemaExists(`${sandbox}_fail`)).to.equal(false);
    } finally {
      await system.db.raw(`DROP TRIGGER refuse_seed ON ${ident(system.config.dbSchema)}.scenario_runs`);
      await system.db.raw(`DROP FUNCTION ${ident(system.config.dbSchema)}.refuse_seed()`);
    }
  });
});
