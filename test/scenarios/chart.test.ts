import { expect } from 'chai';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { buildSymbol } from '../../src/scenarios/batch.js';
import { candlestickSvg, niceTicks, type ChartBar } from '../../src/scenarios/chart.js';
import { SCENARIOS } from '../../src/scenarios/catalog.js';
import type { ModelParams } from '../../src/scenarios/model.js';
import { sessionGrid } from '../../src/scenarios/run.js';

function chartOf(scenario: 'crash_2020'): { svg: string; bars: ChartBar[] } {
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
    bands: built.phases.map((p) => ({ label: p.name, start: p.start, end: p.end })),
  });
  return { svg, bars };
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

  it('should pick round axis ticks and cope with an empty series', () => {
    expect(niceTicks(63.2, 118.7)).to.deep.equal([70, 80, 90, 100, 110]);
    expect(niceTicks(0.5, 1.7, 6)).to.deep.equal([0.6, 0.8, 1, 1.2, 1.4, 1.6]);
    const empty = candlestickSvg([], { title: 'nothing' });
    expect(XMLValidator.validate(empty)).to.equal(true);
    expect(empty).to.include('no bars');
  });
});
