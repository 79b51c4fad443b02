import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { ALERT_RULES } from '../../src/metrics/alert-engine.js';

const run = promisify(execFile);
const PROMETHEUS_DIR = 'deploy/prometheus';
const DASHBOARD = 'deploy/grafana/tickforge.dashboard.json';

/** Runs promtool (installed by .ci/run); its output whichever way it exits. */
async function promtool(...args: string[]): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await run('promtool', args, { cwd: PROMETHEUS_DIR });
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (failure.code === 'ENOENT')
      throw new Error('promtool is not installed: .ci/run installs it (see the promtool step there)');
    return { ok: false, output: `${failure.stdout ?? ''}${failure.stderr ?? ''}` };
  }
}

interface Dashboard {
  panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
}

/** Every PromQL query of the Grafana dashboard. */
async function dashboardQueries(): Promise<Array<{ title: string; expr: string }>> {
  const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as Dashboard;
  return dashboard.panels.flatMap((panel) => panel.targets.map((target) => ({ title: panel.title, expr: target.expr })));
}

describe('deployment files', () => {
  it('should hold Prometheus rules and a scrape configuration that promtool accepts', async () => {
    const rules = await promtool('check', 'rules', 'tickforge.rules.yml');
    expect(rules.ok, rules.output).to.equal(true);
    expect(rules.output).to.include(`SUCCESS: ${ALERT_RULES.length} rules found`);
    const config = await promtool('check', 'config', 'prometheus.yml');
    expect(config.ok, config.output).to.equal(true);
  });

  it('should fire every Prometheus rule on made-up series and resolve it when they recover', async () => {
    const tested = await promtool('test', 'rules', 'tickforge.rules.test.yml');
    expect(tested.ok, tested.output).to.equal(true);
    const cases = await readFile(path.join(PROMETHEUS_DIR, 'tickforge.rules.test.yml'), 'utf8');
    for (const rule of ALERT_RULES) expect(cases, `a promtool case for ${rule}`).to.match(new RegExp(`rule: ${rule}[ ,]`));
  });

  it('should carry one Prometheus rule for each rule the scheduler evaluates', async () => {
    const rules = await readFile(path.join(PROMETHEUS_DIR, 'tickforge.rules.yml'), 'utf8');
    const labelled = [...rules.matchAll(/^\s+rule: ([a-z0-9-]+)$/gm)].map((match) => match[1]);
    expect([...labelled].sort()).to.deep.equal([...ALERT_RULES].sort());
  });

  it('should query Prometheus with valid PromQL in every dashboard panel', async () => {
    const queries = await dashboardQueries();
    expect(queries.length).to.be.above(20);
    // promtool parses PromQL only inside rule files: each query becomes a recording rule.
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tickforge-dashboard-'));
    try {
      const file = path.join(dir, 'dashboard.rules.yml');
      const records = queries.map(
        (query, i) => `      - record: dashboard:query_${i}\n        expr: ${JSON.stringify(query.expr)}`,
      );
      await writeFile(file, `groups:\n  - name: dashboard\n    rules:\n${records.join('\n')}\n`);
      const checked = await promtool('check', 'rules', file);
      expect(checked.ok, checked.output).to.equal(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
