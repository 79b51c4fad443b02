import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { ALERT_RULES } from '../../src/metrics/alert-engine.js';
import { DEFAULT_ALERT_THRESHOLDS } from '../../src/metrics/alert-rules.js';
import { loadConfig } from '../../src/shared/config.js';

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

/** A Prometheus rule of tickforge.rules.yml: its `rule` label, expression and summary. */
interface PrometheusRule {
  rule: string;
  expr: string;
  summary: string;
}

/** The rules of tickforge.rules.yml, read from its plain layout (one `- alert:` block each). */
async function prometheusRules(): Promise<Map<string, PrometheusRule>> {
  const text = await readFile(path.join(PROMETHEUS_DIR, 'tickforge.rules.yml'), 'utf8');
  const rules = text
    .split(/^\s+- alert: /m)
    .slice(1)
    .map((block) => ({
      rule: /^\s+rule: (\S+)$/m.exec(block)?.[1] ?? '',
      expr: /^\s+expr: ([\s\S]*?)^\s+labels:/m.exec(block)?.[1] ?? '',
      summary: /^\s+summary: (.*)$/m.exec(block)?.[1] ?? '',
    }));
  return new Map(rules.map((rule) => [rule.rule, rule]));
}

/** The number a comparison in a PromQL expression holds its left side to: `> 30 * 60` → 1800. */
function comparedTo(expr: string, comparison: RegExp): number {
  const match = comparison.exec(expr);
  if (!match) throw new Error(`no ${comparison.source} in ${expr}`);
  return match[1].split('*').reduce((product, factor) => product * Number(factor.trim()), 1);
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

  it('should hold the Prometheus rules to the default thresholds of the TICKFORGE_ALERT_* settings', async () => {
    const limits = DEFAULT_ALERT_THRESHOLDS;
    const rules = await prometheusRules();
    const number = String.raw`([\d.]+(?:\s*\*\s*[\d.]+)*)\s*$`;
    const threshold = (rule: string, left: string) => comparedTo(rules.get(rule)!.expr, new RegExp(`${left}${number}`, 'm'));
    expect(threshold('eod-late', String.raw`\(time\(\) - tickforge_eod_triggered_timestamp_seconds\) > `)).to.equal(limits.eodMinutes * 60);
    expect(threshold('queue-wait', 'tickforge_queue_oldest_waiting_seconds > ')).to.equal(limits.queueWaitSeconds);
    expect(threshold('failure-rate', String.raw`^\s*\) > `)).to.equal(limits.failureRatePercent / 100);
    expect(threshold('failure-rate', String.raw`\[15m\]\)\) >= `)).to.equal(limits.failureRateMinJobs);
    expect(threshold('job-p99', String.raw`\[1h\]\)\)\) > `)).to.equal(limits.jobP99BudgetMs / 1000);
    expect(threshold('postgres-pool', 'tickforge_postgres_pool_size >= ')).to.equal(limits.postgresPoolSaturation);
    expect(threshold('redis-memory', 'tickforge_redis_used_memory_bytes > ')).to.equal(limits.redisMemoryBytes);
    // The summaries a person reads name the same limits.
    expect(rules.get('eod-late')!.summary).to.include(`within ${limits.eodMinutes} minutes`);
    expect(rules.get('queue-wait')!.summary).to.include(`(limit ${limits.queueWaitSeconds / 60} min)`);
    expect(rules.get('failure-rate')!.summary).to.include(`More than ${limits.failureRatePercent} %`);
    expect(rules.get('job-p99')!.summary).to.include(`(budget ${limits.jobP99BudgetMs / 60_000} min)`);
    expect(rules.get('redis-memory')!.summary).to.include(`(limit ${limits.redisMemoryBytes / 1024 ** 3} GiB)`);
    // The defaults are the documented ones, so the rules file holds what docs/configuration.md says.
    const docs = await readFile('docs/configuration.md', 'utf8');
    const config = loadConfig({});
    const documented = [...docs.matchAll(/^\| `(TICKFORGE_ALERT_[A-Z0-9_]+)` \| `(\d+)` \|/gm)].map(([, env, value]) => [env, Number(value)]);
    expect(documented).to.deep.equal([
      ['TICKFORGE_ALERT_EOD_MINUTES', config.alertEodMinutes],
      ['TICKFORGE_ALERT_QUEUE_WAIT_SECONDS', config.alertQueueWaitSeconds],
      ['TICKFORGE_ALERT_FAILURE_RATE_PERCENT', config.alertFailureRatePercent],
      ['TICKFORGE_ALERT_FAILURE_RATE_MIN_JOBS', config.alertFailureRateMinJobs],
      ['TICKFORGE_ALERT_JOB_P99_MS', config.alertJobP99Ms],
      ['TICKFORGE_ALERT_POSTGRES_POOL_PERCENT', config.alertPostgresPoolPercent],
      ['TICKFORGE_ALERT_REDIS_MEMORY_MB', config.alertRedisMemoryMb],
    ]);
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
