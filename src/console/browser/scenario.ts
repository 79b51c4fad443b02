/** A scenario run: candles and volume with its phases shaded, and its validation report. */
import { element, fillForm, formQuery, getJson, setState } from './api.js';
import { PHASE_LEGEND, PHASE_SHADES, PriceChart, type ApiBar, type PhaseMeaning, type PhaseSpan } from './chart.js';

interface Check {
  name: string;
  passed: boolean;
  measured: number | null;
  expected: string;
  detail?: string;
}

interface SymbolReport {
  symbol: string;
  passed: boolean;
  targets: Check[];
  invariants: Check[];
  stylizedFacts: Check[];
  indicators: Check[];
  figures: Record<string, number>;
}

interface Run {
  id: string;
  scenario: string;
  seed: number;
  symbols: string[];
  series: Array<{ timeframe: string }>;
  sessions: number;
  start: string;
  passed: boolean;
  report: { symbols: SymbolReport[] };
}

interface RunBars {
  symbol: string;
  timeframe: string;
  bars: ApiBar[];
  phases: PhaseSpan[];
}

const GROUPS = [
  ['targets', 'Targets'],
  ['invariants', 'Bar invariants'],
  ['stylizedFacts', 'Stylized facts'],
  ['indicators', 'Indicator cross-checks'],
] as const;

const runId = decodeURIComponent(location.pathname.split('/').pop()!);
const form = document.getElementById('query') as HTMLFormElement;
const chart = new PriceChart(document.getElementById('chart')!);

function option(value: string): HTMLOptionElement {
  const node = element('option', value);
  node.value = value;
  return node;
}

function figure(value: number | null): string {
  if (value === null) return '—';
  return Math.abs(value) >= 1000 || Number.isInteger(value) ? value.toLocaleString('en-US') : value.toFixed(4);
}

function reportTable(report: SymbolReport): HTMLElement {
  const sections: Node[] = [
    element('h2', `${report.symbol}: ${report.passed ? 'passed' : 'failed'}`, report.passed ? 'passed' : 'failed'),
  ];
  for (const [group, title] of GROUPS) {
    const rows = report[group].map((check) =>
      element(
        'tr',
        [
          element('td', check.passed ? '✓' : '✗', check.passed ? 'passed' : 'failed'),
          element('td', check.name),
          element('td', figure(check.measured)),
          element('td', check.expected),
        ],
        check.passed ? '' : 'failed-row',
      ),
    );
    sections.push(element('h3', title), element('table', [element('tbody', rows)]));
  }
  return element('div', sections);
}

function legend(phases: readonly PhaseSpan[]): HTMLElement {
  const meanings = [...new Set(phases.map((phase) => phase.meaning))] as PhaseMeaning[];
  return element(
    'p',
    meanings.map((meaning) => {
      const swatch = element('span', PHASE_LEGEND[meaning], 'swatch');
      swatch.style.background = PHASE_SHADES[meaning];
      return swatch;
    }),
    'legend',
  );
}

async function loadBars(run: Run): Promise<void> {
  const query = formQuery(form);
  history.replaceState(null, '', `?${new URLSearchParams(query)}`);
  setState('loading', `loading ${query.symbol} ${query.timeframe} …`);
  try {
    const answer = await getJson<RunBars>(`/api/scenarios/${encodeURIComponent(run.id)}/bars`, {
      symbol: query.symbol,
      timeframe: query.timeframe,
      from: query.from,
      to: query.to,
    });
    const shown = chart.show(answer.bars, {
      intraday: answer.timeframe !== '1d',
      showFilled: false,
      phases: answer.phases,
    });
    document.getElementById('legend')!.replaceChildren(legend(answer.phases));
    const report = run.report.symbols.find((s) => s.symbol === answer.symbol);
    document.getElementById('report')!.replaceChildren(report ? reportTable(report) : element('p', 'no report for this symbol'));
    setState(
      'ready',
      `${run.scenario} · seed ${run.seed} · ${answer.symbol} ${answer.timeframe}: ${shown.bars} bars · phases ${answer.phases
        .map((p) => `${p.name} (${p.meaning})`)
        .join(', ')}`,
    );
  } catch (error) {
    setState('error', (error as Error).message);
  }
}

async function start(): Promise<void> {
  setState('loading', `loading run ${runId} …`);
  let run: Run;
  try {
    run = await getJson<Run>(`/api/scenarios/${encodeURIComponent(runId)}`);
  } catch (error) {
    setState('error', (error as Error).message);
    return;
  }
  document.getElementById('title')!.textContent =
    `${run.scenario} · run ${run.id} · ${run.sessions} sessions from ${run.start} · report ${run.passed ? 'passed' : 'failed'}`;
  const symbol = form.elements.namedItem('symbol') as HTMLSelectElement;
  const timeframe = form.elements.namedItem('timeframe') as HTMLSelectElement;
  symbol.replaceChildren(...run.symbols.map(option));
  const timeframes = run.series.map((s) => s.timeframe);
  timeframe.replaceChildren(...timeframes.map(option));
  timeframe.value = timeframes.includes('1d') ? '1d' : timeframes[0];
  fillForm(form, new URLSearchParams(location.search));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void loadBars(run);
  });
  form.addEventListener('change', (event) => {
    if ((event.target as HTMLElement).tagName === 'SELECT') void loadBars(run);
  });
  await loadBars(run);
}

void start();
