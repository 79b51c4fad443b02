import type { DemoTour } from './demo-tour.js';

interface ScenarioRunResult {
  runId: string;
  schema: string;
  written: number;
  passed: boolean;
  failedChecks: string[];
  checks: Array<{ check: string; passed: boolean; passedSymbols: number; symbols: number }>;
}

/**
 * The scenario step: generate a crash_2020 run, print its validation summary, and return the
 * lines for "Where to look" (the run and its chart).
 */
export async function demoScenario(tour: DemoTour): Promise<string[]> {
  tour.heading('POST /api/jobs/generate-scenario — crash_2020, 5 symbols, seed 42, into the sandbox schema');
  const result = await tour.run<ScenarioRunResult>(
    'generate-scenario',
    { scenario: 'crash_2020', count: 5, seed: 42 },
    'scenario',
  );
  tour.say(
    `   run ${result.runId}: ${result.written} bars written to ${result.schema}.bars; report ${result.passed ? 'passed' : 'FAILED'}`,
  );
  for (const check of result.checks.filter((c) => c.check.startsWith('targets.'))) {
    tour.say(`   ${check.passed ? '✓' : '✗'} ${check.check} (${check.passedSymbols}/${check.symbols} symbols)`);
  }
  for (const line of result.failedChecks) tour.say(`   ✗ ${line}`);
  return [
    `   scenario     ${tour.url}/console/scenarios/${result.runId}  (chart, phases, validation report)`,
    `   its JSON     ${tour.url}/api/scenarios/${result.runId}`,
    `   its chart    ${tour.url}/api/scenarios/${result.runId}/chart?symbol=SYN0001  (SVG, open in a browser)`,
  ];
}
