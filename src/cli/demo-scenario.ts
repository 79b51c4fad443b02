interface ScenarioRunResult {
  runId: string;
  schema: string;
  symbols: number;
  written: number;
  passed: boolean;
  failedChecks: string[];
  checks: Array<{ check: string; passed: boolean; passedSymbols: number; symbols: number }>;
}

/**
 * The demo's scenario step: generate a crash_2020 run through the API, wait for it, and print
 * its validation summary and where to see its chart. Returns lines for "Where to look".
 */
export async function demoScenario(
  url: string,
  headers: Record<string, string>,
  out: (line?: string) => void,
  follow: (queue: string, id: string) => Promise<unknown>,
): Promise<string[]> {
  out('5. POST /api/jobs/generate-scenario — crash_2020, 5 symbols, seed 42, into the sandbox schema');
  const posted = await fetch(`${url}/api/jobs/generate-scenario`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ scenario: 'crash_2020', count: 5, seed: 42 }),
  });
  const job = (await posted.json()) as { id: string; queue: string; error?: string };
  if (posted.status !== 202) throw new Error(`the API refused the scenario: ${posted.status} ${job.error}`);
  const result = (await follow(job.queue, job.id)) as ScenarioRunResult;
  out(`   run ${result.runId}: ${result.written} bars written to ${result.schema}.bars; report ${result.passed ? 'passed' : 'FAILED'}`);
  for (const check of result.checks.filter((c) => c.check.startsWith('targets.'))) {
    out(`   ${check.passed ? '✓' : '✗'} ${check.check} (${check.passedSymbols}/${check.symbols} symbols)`);
  }
  for (const line of result.failedChecks) out(`   ✗ ${line}`);
  return [
    `   scenario     ${url}/api/scenarios/${result.runId}`,
    `   its chart    ${url}/api/scenarios/${result.runId}/chart?symbol=SYN0001  (SVG, open in a browser)`,
  ];
}
