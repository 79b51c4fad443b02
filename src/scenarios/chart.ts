import { toWallClock } from '../shared/zone.js';

/** One candle to draw: ts (epoch ms) and OHLCV. */
export interface ChartBar {
  ts: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/** A stretch of bars to shade and label (a scenario phase), by bar index [start, end). */
export interface ChartBand {
  label: string;
  start: number;
  end: number;
}

/** Titles, shading and size of a chart. */
export interface ChartOptions {
  title: string;
  subtitle?: string;
  /** Intraday bars are labelled with their time, daily and longer with their date. */
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
const BAND_FILLS = ['#f5f7fb', '#fdf3f2', '#f2f8f3', '#fbf8ee'];

/** Escapes text for XML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Round numbers for an axis: about `count` steps of 1, 2, 2.5 or 5 × 10^k covering [low, high]. */
export function niceTicks(low: number, high: number, count = 6): number[] {
  if (!(high > low)) return [low];
  const raw = (high - low) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let value = Math.ceil(low / step) * step; value <= high + step * 1e-9; value += step) {
    ticks.push(Number(value.toPrecision(12)));
  }
  return ticks;
}

function formatVolume(volume: number): string {
  if (volume >= 1e9) return `${(volume / 1e9).toFixed(1)}B`;
  if (volume >= 1e6) return `${(volume / 1e6).toFixed(1)}M`;
  if (volume >= 1e3) return `${(volume / 1e3).toFixed(1)}k`;
  return String(Math.round(volume));
}

function dateLabel(ts: number, intraday: boolean, timeZone: string): string {
  const wall = toWallClock(ts, timeZone);
  const pad = (n: number) => String(n).padStart(2, '0');
  if (intraday) return `${pad(wall.month)}-${pad(wall.day)} ${pad(wall.hour)}:${pad(wall.minute)}`;
  return `${wall.year}-${pad(wall.month)}-${pad(wall.day)}`;
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
  const padding = (high - low) * 0.04 || high * 0.01 || 1;
  const priceLow = low - padding;
  const priceHigh = high + padding;
  const y = (price: number) => top + ((priceHigh - price) / (priceHigh - priceLow)) * priceHeight;
  const slot = plotWidth / bars.length;
  const x = (index: number) => left + (index + 0.5) * slot;
  const body = Math.max(1, slot * 0.7);

  for (const [i, band] of (options.bands ?? []).entries()) {
    const start = Math.max(0, band.start);
    const end = Math.min(bars.length, band.end);
    if (end <= start) continue;
    const bx = left + start * slot;
    out.push(
      `<rect x="${fixed(bx)}" y="${top}" width="${fixed((end - start) * slot)}" height="${priceHeight}" fill="${BAND_FILLS[i % BAND_FILLS.length]}"/>`,
    );
    out.push(`<text x="${fixed(bx + 4)}" y="${top + 12}" fill="#8a8a8a">${escapeXml(band.label)}</text>`);
  }

  for (const tick of niceTicks(priceLow, priceHigh)) {
    const ty = fixed(y(tick));
    out.push(`<line x1="${left}" y1="${ty}" x2="${left + plotWidth}" y2="${ty}" stroke="${GRID}" stroke-width="1"/>`);
    out.push(`<text x="${left + plotWidth + 6}" y="${fixed(ty + 4)}" fill="${TEXT}">${tick.toFixed(2)}</text>`);
  }
  out.push(
    `<rect x="${left}" y="${top}" width="${plotWidth}" height="${priceHeight}" fill="none" stroke="#bbbbbb" stroke-width="1"/>`,
  );
  out.push(
    `<rect x="${left}" y="${volumeTop}" width="${plotWidth}" height="${volumeHeight}" fill="none" stroke="#bbbbbb" stroke-width="1"/>`,
  );
  out.push(`<text x="${left + plotWidth + 6}" y="${volumeTop + 10}" fill="${TEXT}">${formatVolume(maxVolume)}</text>`);
  out.push(`<text x="${left + plotWidth + 6}" y="${volumeTop + volumeHeight}" fill="${TEXT}">0</text>`);

  const labels = Math.min(8, bars.length);
  for (let k = 0; k < labels; k++) {
    const index = Math.round((k * (bars.length - 1)) / Math.max(1, labels - 1));
    const lx = fixed(x(index));
    out.push(
      `<line x1="${lx}" y1="${volumeTop + volumeHeight}" x2="${lx}" y2="${volumeTop + volumeHeight + 4}" stroke="#999999"/>`,
    );
    const anchor = k === 0 ? 'start' : k === labels - 1 ? 'end' : 'middle';
    out.push(
      `<text x="${lx}" y="${height - 10}" text-anchor="${anchor}" fill="${TEXT}">${dateLabel(bars[index].ts, options.intraday ?? false, timeZone)}</text>`,
    );
  }

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
