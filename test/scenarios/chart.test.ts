import { expect } from 'chai';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { buildSymbol } from '../../src/scenarios/batch.js';
import { candlestickSvg, niceTicks, type ChartBar } from '../../src/scenarios/chart.js';
import { SCENARIOS } from '../../src/scenarios/catalog.js';
import type { ModelParams, Phase } from '../../src/scenarios/model.js';
import { phaseMeaning } from '../../src/scenarios/phase-meaning.js';
import { sessionGrid } from '../../src/scenarios/run.js';

function chartOf(scenario: 'crash_2020'): { svg: string; bars: ChartBar[]; phases: Phase[] } {
  const { grid } = sessionGrid('2020-01-01', 252);
  const params = SCENARIOS[scenario].params.parse({}) as ModelParams;
  const built = buildSymbol({ scenario, params, seed: 42, timeframe: '1d', targets: [] }, 'SYN0001', grid);
  const daily = built.daily;
  const bars = Array.from(daily.ts, (ts, i) => ({
    ts,
    open: daily.open[i],
    high: daily.high[i],
    low: daily.low[i],
    close: daily.close[i],
    volume: daily.volume[i],
  }));
  const svg = candlestickSvg(bars, {
    title: 'crash_2020 · SYN0001 · 1d <&>',
    subtitle: 'seed 42',
    bands: built.phases.map((p) => ({ label: p.name, meaning: phaseMeaning(p), start: p.start, end: p.end })),
  });
  return { svg, bars, phases: built.phases };
}

describe('scenario chart', () => {
  it('should render well-formed SVG with one candle body, one wick and one volume bar per bar', () => {
    const { svg, bars } = chartOf('crash_2020');
    expect(XMLValidator.validate(svg)).to.equal(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(svg) as {
      svg: { xmlns: string; width: string; title: string; g: Array<{ class: string; rect: unknown[]; line?: unknown[] }> };
    };
    expect(doc.svg.xmlns).to.equal('http://www.w3.org/2000/svg');
    expect(doc.svg.title).to.equal('crash_2020 · SYN0001 · 1d <&>');
    const candles = doc.svg.g.find((g) => g.class === 'candles')!;
    const volume = doc.svg.g.find((g) => g.class === 'volume')!;
    expect(candles.rect).to.have.length(bars.length);
    expect(candles.line).to.have.length(bars.length);
    expect(volume.rect).to.have.length(bars.length);
    expect(svg).to.include('&lt;&amp;&gt;');
    expect(svg).to.include('>crash<');
  });

  it('should draw the crash low lower on the canvas than the pre-crash high', () => {
    const { svg, bars } = chartOf('crash_2020');
    const wicks = [...svg.matchAll(/<line x1="[\d.]+" y1="([\d.]+)" x2="[\d.]+" y2="([\d.]+)" stroke="#(?:26a69a|ef5350)"/g)];
    expect(wicks).to.have.length(bars.length);
    const lowest = bars.reduce((best, bar, i) => (bar.low < bars[best].low ? i : best), 0);
    const highest = bars.reduce((best, bar, i) => (bar.high > bars[best].high ? i : best), 0);
    // SVG y grows downwards: the lowest low has the largest y2, the highest high the smallest y1.
    expect(Number(wicks[lowest][2])).to.equal(Math.max(...wicks.map((w) => Number(w[2]))));
    expect(Number(wicks[highest][1])).to.equal(Math.min(...wicks.map((w) => Number(w[1]))));
  });

  it('should pick about seven round price ticks (six to nine) that cover the range, and cope with an empty series', () => {
    expect(niceTicks(63.2, 118.7)).to.deep.equal([60, 70, 80, 90, 100, 110, 120]);
    expect(niceTicks(0.5, 1.7)).to.deep.equal([0.4, 0.6, 0.8, 1, 1.2, 1.4, 1.6, 1.8]);
    for (let low = 1; low < 5_000; low *= 1.37) {
      for (const width of [0.013, 0.4, 3.3, 17, 55.5, 260, 1_234]) {
        const ticks = niceTicks(low, low + width);
        expect(ticks.length, `${low}..${low + width}`).to.be.within(6, 9);
        expect(ticks[0]).to.be.at.most(low);
        expect(ticks[ticks.length - 1]).to.be.at.least(low + width);
        const step = Number((ticks[1] - ticks[0]).toPrecision(6));
        const mantissa = Number((step / 10 ** Math.floor(Math.log10(step))).toPrecision(6));
        expect([1, 2, 2.5, 5], `step ${step}`).to.include(mantissa);
      }
    }
    const empty = candlestickSvg([], { title: 'nothing' });
    expect(XMLValidator.validate(empty)).to.equal(true);
    expect(empty).to.include('no bars');
  });

  /** The chart parsed: its groups by class, each group's elements in order. */
  function parsed(svg: string) {
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['g', 'rect', 'text', 'line'].includes(name) }).parse(svg) as {
      svg: {
        g: Array<{ class: string; rect?: Array<Record<string, string>>; text?: Array<string | { '#text': string }> }>;
        text: Array<string | { '#text': string; class?: string }>;
      };
    };
    const group = (name: string) => doc.svg.g.find((g) => g.class === name);
    const texts = (name: string) => (group(name)?.text ?? []).map((text) => (typeof text === 'string' ? text : text['#text']));
    return { doc, group, texts };
  }

  it('should label the time axis at month starts with the year, and name the time zone', () => {
    const { svg, bars } = chartOf('crash_2020');
    const { doc, texts } = parsed(svg);
    const labels = texts('time-axis');
    expect(labels.length).to.be.within(5, 10);
    expect(labels.every((label) => /^[A-Z][a-z]{2} 20(20|21)$/.test(label)), labels.join(', ')).to.equal(true);
    expect(labels.slice(0, 2)).to.deep.equal(['Jan 2020', 'Mar 2020']);
    const caption = doc.svg.text.find((text) => typeof text !== 'string' && text.class === 'time-zone') as { '#text': string };
    expect(caption['#text']).to.equal('dates in America/New_York');
    expect(bars.length).to.equal(252);
  });

  it('should shade each phase with the colour of what it does: up green, down red, crash dark red, sideways grey', () => {
    const { svg, phases } = chartOf('crash_2020');
    const shades = parsed(svg).group('phases')!.rect!;
    const meanings = phases.map((phase) => phaseMeaning(phase));
    expect(shades.map((rect) => rect['data-meaning'])).to.deep.equal(meanings);
    expect(meanings).to.include('crash');
    const colours: Record<string, string> = { up: '#26a69a', down: '#ef5350', crash: '#b71c1c', flat: '#78909c' };
    for (const rect of shades) expect(rect.fill, rect['data-meaning']).to.equal(colours[rect['data-meaning']]);
    const crash = shades.find((rect) => rect['data-meaning'] === 'crash')!;
    expect(Number(crash['fill-opacity'])).to.be.above(Number(shades.find((rect) => rect['data-meaning'] !== 'crash')!['fill-opacity']));
  });

  it('should label intraday bars with session dates and years across days, and hours with the date and zone within one', () => {
    const minutes = (days: number) =>
      Array.from({ length: days * 390 }, (_, m) => {
        const ts = Date.parse('2013-10-07T13:30:00Z') + Math.floor(m / 390) * 86_400_000 + (m % 390) * 60_000;
        return { ts, open: 100, high: 101, low: 99, close: 100.5, volume: 1_000 };
      });
    const days = parsed(candlestickSvg(minutes(3), { title: 'SPY 1m', intraday: true }));
    expect(days.texts('time-axis')).to.deep.equal(['2013-10-07', '2013-10-08', '2013-10-09']);
    const oneDay = candlestickSvg(minutes(1), { title: 'SPY 1m', intraday: true });
    expect(parsed(oneDay).texts('time-axis')).to.include('10:00');
    expect(oneDay).to.include('>2013-10-07 · times in America/New_York<');
  });
});
