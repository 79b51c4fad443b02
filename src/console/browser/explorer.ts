/** The bars explorer: a symbol's stored bars as candles, with volume, gaps, filled bars and pattern detections. */
import { fillForm, formQuery, getJson, setState } from './api.js';
import { PriceChart, type ApiBar, type BarMarker } from './chart.js';

interface BarsAnswer {
  symbol: string;
  timeframe: string;
  session: string;
  variant: string;
  origin: string;
  bars: ApiBar[];
}

interface DetectionsAnswer {
  detections: Array<{ ts: string; pattern: string; direction: 'bullish' | 'bearish' }>;
}

const form = document.getElementById('query') as HTMLFormElement;
const chart = new PriceChart(document.getElementById('chart')!);
const INTRADAY = /^\d+[mh]$/;

async function load(): Promise<void> {
  const query = formQuery(form);
  history.replaceState(null, '', `?${new URLSearchParams(query)}`);
  setState('loading', `loading ${query.symbol} ${query.timeframe} …`);
  try {
    const answer = await getJson<BarsAnswer>('/api/bars', {
      symbol: query.symbol,
      timeframe: query.timeframe,
      session: query.session,
      from: query.from,
      to: query.to,
      fill: 'forward',
    });
    // The detections of the series that answered, over the same range read the same way.
    const { detections } = await getJson<DetectionsAnswer>('/api/patterns/detections', {
      symbol: answer.symbol,
      timeframe: answer.timeframe,
      variant: answer.variant,
      session: query.session,
      from: query.from,
      to: query.to,
    });
    const markers: BarMarker[] = detections.map((detection) => ({
      ts: detection.ts,
      text: detection.pattern,
      direction: detection.direction === 'bullish' ? 'up' : 'down',
    }));
    const shown = chart.show(answer.bars, {
      intraday: INTRADAY.test(answer.timeframe),
      showFilled: query.fills === 'on',
      markers,
    });
    const range = answer.bars.length ? ` from ${answer.bars[0].ts} to ${answer.bars[answer.bars.length - 1].ts}` : '';
    setState(
      'ready',
      `${shown.bars} ${answer.timeframe} bars of ${answer.symbol} (${answer.session} session, ${answer.origin})${range} · ` +
        `${shown.gaps} gaps, ${shown.filled} missing bars ${query.fills === 'on' ? 'shown filled' : 'left empty'} · ` +
        `${markers.length} pattern detections`,
    );
  } catch (error) {
    chart.show([], { intraday: true, showFilled: false });
    setState('error', (error as Error).message);
  }
}

fillForm(form, new URLSearchParams(location.search));
form.addEventListener('submit', (event) => {
  event.preventDefault();
  void load();
});
form.addEventListener('change', (event) => {
  if ((event.target as HTMLElement).tagName === 'SELECT' || (event.target as HTMLInputElement).type === 'checkbox') void load();
});
void load();
