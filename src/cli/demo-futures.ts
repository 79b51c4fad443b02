import type { RollEvent } from '../futures/adjust.js';
import type { DemoTour } from './demo-tour.js';

const ES_FILE = 'futures/es_daily_by_contract.csv';

/**
 * The futures step: import the ES contracts and build `ES.c.volume.ratio`, then read the
 * series and its first roll back.
 */
export async function demoFutures(tour: DemoTour): Promise<void> {
  tour.heading('continuous futures: import the ES contracts, build ES.c.volume.ratio, read it back');
  const file = tour.dataFile(ES_FILE);
  if (!file) {
    tour.say(`   skipped: ${ES_FILE} is not in the sample data directory`);
    return;
  }
  const imported = await tour.run<{ contracts: unknown[]; nonSessionRows: { count: number } }>('import-futures', { file });
  tour.say(
    `   import-futures: ${imported.contracts.length} contracts; ${imported.nonSessionRows.count} Sunday/holiday rows merged into the next session`,
  );
  await tour.run('build-continuous', { root: 'ES', roll: 'volume', adjust: 'ratio' });
  const route = '/api/futures/ES/continuous?roll=volume&adjust=ratio';
  const series = await tour.get<{ series: string; bars: unknown[]; rolls: RollEvent[] }>(route);
  tour.say(`   GET ${route}: ${series.bars.length} bars of ${series.series}, ${series.rolls.length} rolls`);
  const [roll] = series.rolls;
  if (roll) {
    tour.say(
      `   first roll ${roll.fromContract} → ${roll.toContract} on ${roll.rollDate} (${roll.trigger}); closes ${roll.fromClose} → ${roll.toClose} on ${roll.referenceDate}, ratio ${roll.ratio?.toFixed(6)}`,
    );
  }
}
