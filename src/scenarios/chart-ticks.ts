import { toWallClock } from '../shared/zone.js';

/** A labelled position on a chart's time axis, by bar index. */
export interface TimeTick {
  index: number;
  label: string;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

/** Steps (in units) an axis may label every: months, days or hours apart. */
const MONTH_STEPS = [1, 2, 3, 6, 12, 24, 60];
const DAY_STEPS = [1, 2, 5, 10, 20];

/**
 * Ticks for a chart's time axis in `timeZone`, at most about `most`: at month starts labelled
 * with month and year ("Mar 2020") for daily bars; for intraday bars at session starts labelled
 * with the date and year ("2020-03-09") when the bars span several days, else at whole hours
 * ("10:00"). Thinned to every 2nd, 3rd, 6th … month or day when there are more than `most`.
 */
export function timeTicks(ts: readonly number[], intraday: boolean, timeZone: string, most = 10): TimeTick[] {
  if (ts.length === 0) return [];
  const walls = ts.map((t) => toWallClock(t, timeZone));
  const dayKey = (i: number) => walls[i].year * 10_000 + walls[i].month * 100 + walls[i].day;
  const multiDay = dayKey(0) !== dayKey(ts.length - 1);
  const starts: TimeTick[] = [];
  if (!intraday || multiDay) {
    const monthly = !intraday;
    for (let i = 0; i < ts.length; i++) {
      const w = walls[i];
      const newPeriod = monthly
        ? i === 0 || w.month !== walls[i - 1].month || w.year !== walls[i - 1].year
        : i === 0 || dayKey(i) !== dayKey(i - 1);
      if (!newPeriod) continue;
      // The first bar opens a period only when it is the period's first bar (a month start).
      if (i === 0 && monthly && w.day > 7) continue;
      starts.push({ index: i, label: monthly ? `${MONTHS[w.month - 1]} ${w.year}` : `${w.year}-${pad(w.month)}-${pad(w.day)}` });
    }
    const steps = monthly ? MONTH_STEPS : DAY_STEPS;
    const step = steps.find((s) => Math.ceil(starts.length / s) <= most) ?? Math.ceil(starts.length / most);
    return starts.filter((_, k) => k % step === 0);
  }
  for (let i = 0; i < ts.length; i++) {
    if (walls[i].minute === 0 && (i === 0 || walls[i].hour !== walls[i - 1].hour)) {
      starts.push({ index: i, label: `${pad(walls[i].hour)}:00` });
    }
  }
  const step = Math.max(1, Math.ceil(starts.length / most));
  return starts.filter((_, k) => k % step === 0);
}
