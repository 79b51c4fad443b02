import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { startWebServer, type WebServer } from '../../src/api/server.js';
import { createLogger } from '../../src/shared/logger.js';
import { TestSystem } from '../helpers/system.js';

const run = promisify(execFile);
const REDOCLY = createRequire(import.meta.url).resolve('@redocly/cli/bin/cli.js');

interface Operation {
  operationId?: string;
  tags?: string[];
  security?: unknown[];
  'x-required-role'?: string;
  responses: Record<string, { content?: Record<string, { schema?: Record<string, unknown> }> }>;
}

describe('the OpenAPI document', function () {
  this.timeout(120_000);
  let system: TestSystem;
  let web: WebServer;
  let document: { servers?: unknown[]; paths: Record<string, Record<string, Operation>> };

  before(async () => {
    system = await TestSystem.create();
    web = await startWebServer(system.config, createLogger('test-web', system.config.logLevel), '127.0.0.1');
    document = (await (await fetch(`${web.url}/api/openapi.json`)).json()) as typeof document;
  });

  after(async () => {
    await web.close();
    await system.close();
  });

  const operations = () =>
    Object.entries(document.paths).flatMap(([route, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ name: `${method.toUpperCase()} ${route}`, operation })),
    );

  it('should pass redocly lint with the recommended rules and no errors', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tickforge-openapi-'));
    try {
      const file = path.join(dir, 'openapi.json');
      await writeFile(file, JSON.stringify(document));
      const linted = await run(process.execPath, [REDOCLY, 'lint', '--extends=recommended', '--format=json', file], {
        maxBuffer: 64 * 1024 * 1024,
      }).catch((error: { stdout?: string; stderr?: string }) => ({ stdout: error.stdout ?? '', stderr: error.stderr ?? '' }));
      const report = JSON.parse(linted.stdout) as {
        problems: Array<{ severity: string; ruleId: string; message: string; location: Array<{ pointer: string }> }>;
      };
      const errors = report.problems
        .filter((problem) => problem.severity === 'error')
        .map((problem) => `${problem.ruleId} ${problem.location[0]?.pointer}: ${problem.message}`);
      expect(errors, linted.stderr).to.deep.equal([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('should give every success response a schema when the document is generated', () => {
    const missing = operations().flatMap(({ name, operation }) =>
      Object.entries(operation.responses)
        .filter(([status]) => status.startsWith('2'))
        .flatMap(([status, response]) => {
          const contents = Object.entries(response.content ?? {});
          if (contents.length === 0) return [`${name} ${status}: no content`];
          return contents
            .filter(([, content]) => !content.schema || Object.keys(content.schema).length === 0)
            .map(([type, content]) => `${name} ${status} ${type}: ${content.schema ? 'empty schema' : 'no schema'}`);
        }),
    );
    expect(missing).to.deep.equal([]);
    const job = document.paths['/api/jobs/{queue}/{id}'].get.responses['200'].content!['application/json'].schema!;
    expect(job).to.have.nested.property('properties.state');
    expect(job).to.have.nested.property('properties.timestamps.properties.created');
  });

  it('should give every operation a unique operationId, tags and the 401/403/429 answers of its role', () => {
    const ids = operations().map(({ operation }) => operation.operationId);
    expect(ids.filter((id) => !id)).to.deep.equal([]);
    expect(new Set(ids).size).to.equal(ids.length);
    for (const { name, operation } of operations()) {
      expect(operation.tags, name).to.have.length.above(0);
      if (operation.security?.length === 0) continue;
      expect(operation.responses, name).to.have.property('401');
      if (operation['x-required-role'] === 'write') expect(operation.responses, name).to.have.property('403');
    }
    const enqueue = document.paths['/api/jobs/import-bars'].post;
    expect(enqueue.responses).to.include.keys('401', '403', '429');
    expect(document.servers).to.have.length.above(0);
  });
});
