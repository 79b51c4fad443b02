import { escapeXml } from '../scenarios/chart.js';
import { SESSION_MODES } from '../bars/sessions.js';
import { TIMEFRAMES } from '../bars/timeframes.js';

/** Where the console's navigation points besides its own pages. */
export interface ConsoleLinks {
  board: string;
  apiDocs: string;
  health: string;
}

const STYLE = `
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #222; }
  header { display: flex; gap: 1.2em; align-items: baseline; padding: .6em 1em; background: #263238; }
  header a, header strong { color: #eceff1; text-decoration: none; }
  header strong { margin-right: 1em; }
  header a[aria-current] { border-bottom: 2px solid #80cbc4; }
  main { padding: .8em 1em; }
  form { display: flex; flex-wrap: wrap; gap: .8em; align-items: end; margin-bottom: .6em; }
  label { display: flex; flex-direction: column; font-size: 12px; color: #555; }
  input, select, button { font: inherit; padding: .2em .4em; }
  #status { min-height: 1.4em; color: #455a64; }
  #status.error { color: #b71c1c; }
  #chart { height: 560px; border: 1px solid #e0e0e0; }
  .split { display: grid; grid-template-columns: minmax(0, 1fr) 26em; gap: 1em; }
  #report { max-height: 620px; overflow: auto; font-size: 12px; }
  #report table { border-collapse: collapse; width: 100%; }
  #report td { border-bottom: 1px solid #eee; padding: .15em .3em; vertical-align: top; }
  .passed { color: #00796b; } .failed { color: #c62828; } .failed-row { background: #fff3f3; }
  .legend .swatch { display: inline-block; padding: 0 .6em; margin-right: .6em; border: 1px solid #ccc; }
`;

function layout(title: string, current: 'bars' | 'scenarios', links: ConsoleLinks, body: string, script?: string): string {
  const nav = (href: string, text: string, here: boolean) =>
    `<a href="${escapeXml(href)}"${here ? ' aria-current="page"' : ''}>${escapeXml(text)}</a>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(title)} · tickforge</title>
<style>${STYLE}</style>
<script src="/console/assets/lightweight-charts.js"></script>
${script ? `<script type="module" src="/console/assets/${script}"></script>\n` : ''}</head>
<body data-state="loading">
<header>
<strong>tickforge</strong>
${nav('/console/', 'Bars', current === 'bars')}
${nav('/console/scenarios', 'Scenario runs', current === 'scenarios')}
${nav(links.board, 'Bull Board', false)}
${nav(links.apiDocs, 'API docs', false)}
${nav(links.health, 'Health', false)}
</header>
<main>
${body}
</main>
</body>
</html>
`;
}

const options = (values: readonly string[], selected: string) =>
  values.map((value) => `<option${value === selected ? ' selected' : ''}>${escapeXml(value)}</option>`).join('');

/** The bars explorer: pickers for symbol, timeframe, session and range; the chart; a status line. */
export function explorerPage(links: ConsoleLinks): string {
  return layout(
    'Bars',
    'bars',
    links,
    `<form id="query">
<label>symbol <input name="symbol" value="SPY" required size="10" autocapitalize="characters"></label>
<label>timeframe <select name="timeframe">${options(TIMEFRAMES, '5m')}</select></label>
<label>session <select name="session">${options(SESSION_MODES, 'regular')}</select></label>
<label>from <input name="from" placeholder="YYYY-MM-DD" size="12"></label>
<label>to <input name="to" placeholder="YYYY-MM-DD" size="12"></label>
<label><span><input type="checkbox" name="fills"> show filled bars</span></label>
<button>Show</button>
</form>
<p id="status" role="status"></p>
<div id="chart"></div>`,
    'explorer.js',
  );
}

/** Opens a scenario run by id. */
export function scenarioIndexPage(links: ConsoleLinks): string {
  return layout(
    'Scenario runs',
    'scenarios',
    links,
    `<form id="open" method="get" action="/console/scenarios/go">
<label>run id <input name="id" required size="34" placeholder="crash_2020-0123456789abcdef"></label>
<button>Open</button>
</form>
<p>A run id is printed by <code>tickforge scenario … --wait</code> and returned by the generate-scenario job.</p>`,
  );
}

/** One scenario run: chart with phases shaded beside its validation report. */
export function scenarioPage(links: ConsoleLinks): string {
  return layout(
    'Scenario run',
    'scenarios',
    links,
    `<h1 id="title"></h1>
<form id="query">
<label>symbol <select name="symbol"></select></label>
<label>timeframe <select name="timeframe"></select></label>
<label>from <input name="from" placeholder="YYYY-MM-DD" size="12"></label>
<label>to <input name="to" placeholder="YYYY-MM-DD" size="12"></label>
<button>Show</button>
</form>
<p id="status" role="status"></p>
<div class="split"><div><div id="chart"></div><div id="legend"></div></div><div id="report"></div></div>`,
    'scenario.js',
  );
}
