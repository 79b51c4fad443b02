/** The console's price chart: candles, volume, gaps and filled bars, phase shading, markers. */
import type {
  CandlestickData,
  HistogramData,
  IChartApi,
  ISeriesApi,
  ISeriesMarkersPluginApi,
  SeriesMarker,
  Time,
  UTCTimestamp,
  WhitespaceData,
} from 'lightweight-charts';

declare global {
  /** The lightweight-charts standalone build, loaded by the page before this module. */
  const LightweightCharts: typeof import('lightweight-charts');
  interface Window {
    /** What the chart shows, for tests and the curious: the series' data, not pixels. */
    tickforgeConsole?: ChartView;
  }
}

/** A bar as GET /api/bars returns it. */
export interface ApiBar {
  ts: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  filled?: boolean;
}

/** What a stretch of a scenario means for its shading. */
export type PhaseMeaning = 'up' | 'down' | 'crash' | 'flat';

/** A scenario phase over [from, to) (ISO instants). */
export interface PhaseSpan {
  name: string;
  meaning: PhaseMeaning;
  from: string;
  to: string;
}

/** A labelled point on a bar (a pattern detection). */
export interface BarMarker {
  ts: string;
  text: string;
  direction: 'up' | 'down' | 'neutral';
}

export interface ChartView {
  candles(): ReadonlyArray<CandlestickData<Time> | WhitespaceData<Time>>;
  volume(): ReadonlyArray<HistogramData<Time> | WhitespaceData<Time>>;
  markers(): ReadonlyArray<SeriesMarker<Time>>;
  phases(): ReadonlyArray<HistogramData<Time> | WhitespaceData<Time>>;
}

/** What one drawing showed. */
export interface ChartSummary {
  bars: number;
  filled: number;
  gaps: number;
}

const UP = '#26a69a';
const DOWN = '#ef5350';
const FILLED = '#b0b0b0';
/** The shade of each phase meaning (the legend uses them too). */
export const PHASE_SHADES: Record<PhaseMeaning, string> = {
  up: 'rgba(38, 166, 154, 0.13)',
  down: 'rgba(239, 83, 80, 0.13)',
  crash: 'rgba(183, 28, 28, 0.30)',
  flat: 'rgba(120, 144, 156, 0.10)',
};
/** Legend text for each shade. */
export const PHASE_LEGEND: Record<PhaseMeaning, string> = {
  up: 'rising phase',
  down: 'falling phase',
  crash: 'crash',
  flat: 'sideways phase',
};

const ZONE = 'America/New_York';
const dateTime = new Intl.DateTimeFormat('en-CA', {
  timeZone: ZONE,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});
const dateOnly = new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit' });
const monthYear = new Intl.DateTimeFormat('en-US', { timeZone: ZONE, month: 'short', year: 'numeric' });
const monthDay = new Intl.DateTimeFormat('en-US', { timeZone: ZONE, month: 'short', day: 'numeric' });
const clock = new Intl.DateTimeFormat('en-GB', { timeZone: ZONE, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000) as UTCTimestamp;
const instant = (time: Time) => new Date((time as number) * 1000);

/** A candlestick chart with volume beneath, in New York time. */
export class PriceChart {
  private readonly chart: IChartApi;
  private readonly shading: ISeriesApi<'Histogram'>;
  private readonly candles: ISeriesApi<'Candlestick'>;
  private readonly volume: ISeriesApi<'Histogram'>;
  private readonly markers: ISeriesMarkersPluginApi<Time>;
  private intraday = true;

  constructor(container: HTMLElement) {
    const { createChart, createSeriesMarkers, CandlestickSeries, HistogramSeries, TickMarkType } = LightweightCharts;
    this.chart = createChart(container, {
      autoSize: true,
      layout: { background: { color: '#ffffff' }, textColor: '#333333' },
      grid: { vertLines: { color: '#f0f0f0' }, horzLines: { color: '#f0f0f0' } },
      localization: {
        timeFormatter: (time: Time) =>
          this.intraday ? `${dateTime.format(instant(time)).replace(',', '')} ET` : dateOnly.format(instant(time)),
      },
      timeScale: {
        timeVisible: true,
        secondsVisible: false,
        tickMarkFormatter: (time: Time, type: number) => {
          const at = instant(time);
          if (type === TickMarkType.Year) return String(at.getUTCFullYear());
          if (type === TickMarkType.Month) return monthYear.format(at);
          if (type === TickMarkType.DayOfMonth) return monthDay.format(at);
          return clock.format(at);
        },
      },
    });
    // Added first so the phases are drawn behind the candles, over the whole height.
    this.shading = this.chart.addSeries(HistogramSeries, {
      priceScaleId: 'phases',
      lastValueVisible: false,
      priceLineVisible: false,
    });
    this.chart.priceScale('phases').applyOptions({ visible: false, scaleMargins: { top: 0, bottom: 0 } });
    this.candles = this.chart.addSeries(CandlestickSeries, {
      upColor: UP,
      downColor: DOWN,
      borderVisible: false,
      wickUpColor: UP,
      wickDownColor: DOWN,
    });
    this.candles.priceScale().applyOptions({ scaleMargins: { top: 0.08, bottom: 0.25 } });
    this.volume = this.chart.addSeries(HistogramSeries, {
      priceScaleId: 'volume',
      priceFormat: { type: 'volume' },
      lastValueVisible: false,
      priceLineVisible: false,
    });
    this.chart.priceScale('volume').applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    this.markers = createSeriesMarkers(this.candles, []);
    window.tickforgeConsole = {
      candles: () => this.candles.data(),
      volume: () => this.volume.data(),
      markers: () => this.markers.markers(),
      phases: () => this.shading.data(),
    };
  }

  /**
   * Draws the bars. Filled bars (a forward fill's o=h=l=c, volume 0) are grey candles when
   * `showFilled`, else empty slots; each run of them is marked as a gap either way.
   */
  show(
    bars: readonly ApiBar[],
    options: { intraday: boolean; showFilled: boolean; phases?: readonly PhaseSpan[]; markers?: readonly BarMarker[] },
  ): ChartSummary {
    this.intraday = options.intraday;
    this.chart.applyOptions({ timeScale: { timeVisible: options.intraday } });
    const candles: Array<CandlestickData<Time> | WhitespaceData<Time>> = [];
    const volume: Array<HistogramData<Time> | WhitespaceData<Time>> = [];
    const markers: Array<SeriesMarker<Time>> = [];
    let filled = 0;
    let gaps = 0;
    for (let i = 0; i < bars.length; i++) {
      const bar = bars[i];
      const time = seconds(bar.ts);
      if (bar.filled) {
        filled++;
        if (!bars[i - 1]?.filled) {
          let run = 1;
          while (bars[i + run]?.filled) run++;
          gaps++;
          markers.push({ time, position: 'aboveBar', shape: 'square', color: FILLED, text: `gap ×${run}` });
        }
        if (options.showFilled) {
          candles.push({
            time,
            open: bar.open,
            high: bar.high,
            low: bar.low,
            close: bar.close,
            color: FILLED,
            wickColor: FILLED,
          });
        } else {
          candles.push({ time });
        }
        volume.push({ time });
        continue;
      }
      candles.push({ time, open: bar.open, high: bar.high, low: bar.low, close: bar.close });
      volume.push({ time, value: bar.volume, color: bar.close >= bar.open ? 'rgba(38,166,154,0.45)' : 'rgba(239,83,80,0.45)' });
    }
    for (const marker of options.markers ?? []) {
      markers.push({
        time: seconds(marker.ts),
        position: marker.direction === 'down' ? 'aboveBar' : 'belowBar',
        shape: marker.direction === 'down' ? 'arrowDown' : marker.direction === 'up' ? 'arrowUp' : 'circle',
        color: marker.direction === 'down' ? DOWN : marker.direction === 'up' ? UP : '#5c6bc0',
        text: marker.text,
      });
    }
    markers.sort((a, b) => (a.time as number) - (b.time as number));
    this.candles.setData(candles);
    this.volume.setData(volume);
    this.shading.setData(phaseShading(bars, options.phases ?? []));
    this.markers.setMarkers(markers);
    this.chart.timeScale().fitContent();
    return { bars: bars.length - filled, filled, gaps };
  }
}

/** One full-height histogram bar per candle, coloured by the phase it falls in. */
function phaseShading(bars: readonly ApiBar[], phases: readonly PhaseSpan[]): Array<HistogramData<Time>> {
  if (phases.length === 0) return [];
  const spans = phases.map((phase) => ({ ...phase, start: Date.parse(phase.from), end: Date.parse(phase.to) }));
  const out: Array<HistogramData<Time>> = [];
  let p = 0;
  for (const bar of bars) {
    const t = Date.parse(bar.ts);
    while (p < spans.length && spans[p].end <= t) p++;
    if (p === spans.length) break;
    if (spans[p].start <= t) out.push({ time: seconds(bar.ts), value: 1, color: PHASE_SHADES[spans[p].meaning] });
  }
  return out;
}
