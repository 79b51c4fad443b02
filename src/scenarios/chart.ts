import { formatIsoDate, toWallClock } from '../shared/zone.js';
import { timeTicks } from './chart-ticks.js';
import type { PhaseMeaning } from './phase-meaning.js';

/** One candle to draw: ts (epoch ms) and OHLCV. */
export interface ChartBar {
  ts: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/** A stretch of bars to shade by what it means and label (a scenario phase), by bar index [start, end). */
export interface ChartBand {
  label: string;
  meaning: PhaseMeaning;
  start: number;
  end: number;
}

/** Titles, shading and size of a chart. */
export interface ChartOptions {
  title: string;
  subtitle?: string;
  /** Intraday bars are labelled with session dates or hours, daily and longer with month starts. */
  intraday?: boolean;
  bands?: ChartBand[];
  width?: number;
  height?: number;
  timeZone?: string;
}

const UP = '#26a69a';
const DOWN = '#ef5350';
const GRID = '#e6e6e6';
const TEXT = '#333333';
/** The shade of a phase by what it does to the price, as the console shades it. */
export const PHASE_FILLS: Record<PhaseMeaning, { fill: string; opacity: number }> = {
  up: { fill: '#26a69a', opacity: 0.13 },
  down: { fill: '#ef5350', opacity: 0.13 },
  crash: { fill: '#b71c1c', opacity: 0.3 },
  flat: { fill: '#78909c', opacity: 0.1 },
};

/** Escapes text for XML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/**
 * Round numbers for an axis covering [low, high] — the first at or below low, the last at or
 * above high — a step of 1, 2, 2.5 or 5 × 10^k apart: the step whose count is nearest `count`
 * (the smaller step on a tie).
 */
export function niceTicks(low: number, high: number, count = 7): number[] {
  if (!(high > low)) return [low];
  const magnitude = 10 ** Math.floor(Math.log10((high - low) / count));
  const ticksOf = (step: number) => {
    const ticks: number[] = [];
    const last = Math.ceil(high / step - 1e-9);
    for (let k = Math.floor(low / step + 1e-9); k <= last; k++) ticks.push(Number((k * step).toPrecision(12)));
    return ticks;
  };
  const candidates = [0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10, 20].map((m) => ticksOf(m * magnitude));
  return candidates.reduce((best, ticks) => (Math.abs(ticks.length - count) < Math.abs(best.length - count) ? ticks : best));
}

/** Decimals that tell the ticks apart, from 0 for whole steps up to 4. */
function priceDecimals(ticks: readonly number[]): number {
  const step = ticks.length > 1 ? ticks[1] - ticks[0] : 1;
  return Math.min(4, Math.max(0, -Math.floor(Math.log10(step) + 1e-9)));
}

function formatVolume(volume: number): string {
  if (volume >= 1e9) return `${(volume / 1e9).toFixed(1)}B`;
  if (volume >= 1e6) return `${(volume / 1e6).toFixed(1)}M`;
  if (volume >= 1e3) return `${(volume / 1e3).toFixed(1)}k`;
  return String(Math.round(volume));
}

/**
 * What the time axis does not say itself: the zone its times are in, and the date when its
 * ticks are hours of one session.
 */
function timeCaption(ts: readonly number[], intraday: boolean, timeZone: string): string {
  if (!intraday) return `dates in ${timeZone}`;
  const [first, last] = [toWallClock(ts[0], timeZone), toWallClock(ts[ts.length - 1], timeZone)];
  const oneDay = first.year === last.year && first.month === last.month && first.day === last.day;
  return `${oneDay ? `${formatIsoDate(first.year, first.month, first.day)} · ` : ''}times in ${timeZone}`;
}

const fixed = (value: number) => Number(value.toFixed(2));

/**
 * A self-contained SVG candlestick chart with a volume panel: price axis on the right, dates
 * along the bottom, optional shaded bands (the scenario's phases). Plain SVG 1.1 (no script,
 * no external fonts or styles), so any browser or converter renders it the same.
 */
export function candlestickSvg(bars: readonly ChartBar[], options: ChartOptions): string {
  const width = options.width ?? 960;
  const height = options.height ?? 540;
  const timeZone = options.timeZone ?? 'America/New_York';
  const left = 12;
  const right = 70;
  const top = options.subtitle ? 52 : 36;
  const bottom = 30;
  const gap = 10;
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom - gap;
  const priceHeight = Math.round(plotHeight * 0.76);
  const volumeTop = top + priceHeight + gap;
  const volumeHeight = plotHeight - priceHeight;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="11">`,
  );
  out.push(`<title>${escapeXml(options.title)}</title>`);
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${left}" y="20" font-size="15" font-weight="bold" fill="${TEXT}">${escapeXml(options.title)}</text>`);
  if (options.subtitle) out.push(`<text x="${left}" y="38" fill="#666666">${escapeXml(options.subtitle)}</text>`);

  if (bars.length === 0) {
    out.push(`<text x="${width / 2}" y="${height / 2}" text-anchor="middle" fill="#999999">no bars</text>`);
    out.push('</svg>');
    return out.join('\n');
  }

  let low = Infinity;
  let high = -Infinity;
  let maxVolume = 0;
  for (const bar of bars) {
    low = Math.min(low, bar.low);
    high = Math.max(high, bar.high);
    maxVolume = Math.max(maxVolume, bar.volume);
  }
  // The axis runs from tick to tick, so its ends are labelled round numbers.
  const padding = (high - low) * 0.04 || high * 0.01 || 1;
  const priceTicks = niceTicks(low - padding, high + padding);
  const priceLow = priceTicks[0];
  const priceHigh = priceTicks[priceTicks.length - 1];
  const y = (price: number) => top + ((priceHigh - price) / (priceHigh - priceLow)) * priceHeight;
  const slot = plotWidth / bars.length;
  const x = (index: number) => left + (index + 0.5) * slot;
  const body = Math.max(1, slot * 0.7);

  const phases: string[] = [];
  for (const band of options.bands ?? []) {
    const start = Math.max(0, band.start);
    const end = Math.min(bars.length, band.end);
    if (end <= start) continue;
    const bx = left + start * slot;
    const { fill, opacity } = PHASE_FILLS[band.meaning];
    phases.push(
      `<rect data-meaning="${band.meaning}" x="${fixed(bx)}" y="${top}" width="${fixed((end - start) * slot)}" height="${priceHeight}" fill="${fill}" fill-opacity="${opacity}"/>`,
      `<text x="${fixed(bx + 4)}" y="${top + 12}" fill="#666666">${escapeXml(band.label)}</text>`,
    );
  }
  if (phases.length > 0) out.push(`<g class="phases">`, ...phases, `</g>`);

  const decimals = priceDecimals(priceTicks);
  const prices: string[] = [];
  for (const tick of priceTicks) {
    const ty = fixed(y(tick));
    prices.push(
      `<line x1="${left}" y1="${ty}" x2="${left + plotWidth}" y2="${ty}" stroke="${GRID}" stroke-width="1"/>`,
      `<text x="${left + plotWidth + 6}" y="${fixed(ty + 4)}" fill="${TEXT}">${tick.toFixed(decimals)}</text>`,
    );
  }
  out.push(`<g class="price-axis">`, ...prices, `</g>`);
  out.push(
    `<rect x="${left}" y="${top}" width="${plotWidth}" height="${priceHeight}" fill="none" stroke="#bbbbbb" stroke-width="1"/>`,
  );
  out.push(
    `<rect x="${left}" y="${volumeTop}" width="${plotWidth}" height="${volumeHeight}" fill="none" stroke="#bbbbbb" stroke-width="1"/>`,
  );
  out.push(`<text x="${left + plotWidth + 6}" y="${volumeTop + 10}" fill="${TEXT}">${formatVolume(maxVolume)}</text>`);
  out.push(`<text x="${left + plotWidth + 6}" y="${volumeTop + volumeHeight}" fill="${TEXT}">0</text>`);

  const ts = bars.map((bar) => bar.ts);
  const times: string[] = [];
  for (const tick of timeTicks(ts, options.intraday ?? false, timeZone)) {
    const lx = fixed(x(tick.index));
    // A label near an edge is anchored inside the chart rather than centred over it.
    const anchor = lx < left + 40 ? 'start' : lx > left + plotWidth - 40 ? 'end' : 'middle';
    times.push(
      `<line x1="${lx}" y1="${volumeTop + volumeHeight}" x2="${lx}" y2="${volumeTop + volumeHeight + 4}" stroke="#999999"/>`,
      `<text x="${lx}" y="${height - 10}" text-anchor="${anchor}" fill="${TEXT}">${escapeXml(tick.label)}</text>`,
    );
  }
  out.push(`<g class="time-axis">`, ...times, `</g>`);
  out.push(
    `<text class="time-zone" x="${left + plotWidth}" y="20" text-anchor="end" fill="#666666">${escapeXml(timeCaption(ts, options.intraday ?? false, timeZone))}</text>`,
  );

  const candles: string[] = [];
  const volumes: string[] = [];
  bars.forEach((bar, i) => {
    const colour = bar.close >= bar.open ? UP : DOWN;
    const cx = fixed(x(i));
    candles.push(
      `<line x1="${cx}" y1="${fixed(y(bar.high))}" x2="${cx}" y2="${fixed(y(bar.low))}" stroke="${colour}" stroke-width="1"/>`,
    );
    const bodyTop = y(Math.max(bar.open, bar.close));
    const bodyHeight = Math.max(1, y(Math.min(bar.open, bar.close)) - bodyTop);
    candles.push(
      `<rect x="${fixed(x(i) - body / 2)}" y="${fixed(bodyTop)}" width="${fixed(body)}" height="${fixed(bodyHeight)}" fill="${colour}"/>`,
    );
    const vh = maxVolume > 0 ? (bar.volume / maxVolume) * (volumeHeight - 2) : 0;
    volumes.push(
      `<rect x="${fixed(x(i) - body / 2)}" y="${fixed(volumeTop + volumeHeight - vh)}" width="${fixed(body)}" height="${fixed(vh)}" fill="${colour}" fill-opacity="0.55"/>`,
    );
  });
  out.push(`<g class="candles">`, ...candles, `</g>`);
  out.push(`<g class="volume">`, ...volumes, `</g>`);
  out.push('</svg>');
  return out.join('\n');
}
