import type { ModelParams, ScenarioDefinition } from './model.js';
import { crash2020 } from './definitions/crash-2020.js';
import { growth2021 } from './definitions/growth-2021.js';
import { highLowEvents } from './definitions/high-low-events.js';
import { trendChanges } from './definitions/trend-changes.js';
import { volatilityPeriods } from './definitions/volatility-periods.js';

/** The named scenarios, by name. */
export const SCENARIOS = {
  crash_2020: crash2020,
  growth_2021: growth2021,
  volatility_periods: volatilityPeriods,
  trend_changes: trendChanges,
  high_low_events: highLowEvents,
} as const;

export type ScenarioName = keyof typeof SCENARIOS;

/** The scenario names, in catalog order. */
export const SCENARIO_NAMES = Object.keys(SCENARIOS) as ScenarioName[];

/** Whether a string names a scenario. */
export function isScenarioName(name: string): name is ScenarioName {
  return Object.hasOwn(SCENARIOS, name);
}

/** The definition of a scenario, typed loosely for code that handles any of them. */
export function scenarioDefinition(name: ScenarioName): ScenarioDefinition<ModelParams> {
  return SCENARIOS[name] as unknown as ScenarioDefinition<ModelParams>;
}
