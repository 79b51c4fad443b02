/**
 * The piscina task module: every CPU-heavy kernel the worker offloads, by name. Tasks are
 * pure (plain data and typed arrays in and out, no I/O, no clock).
 */
export { continuous } from './tasks/continuous.task.js';
export { generateScenario } from './tasks/generate-scenario.task.js';
export { aggregateChunk } from './tasks/aggregate-chunk.task.js';
export { parseBars } from './tasks/parse-bars.task.js';
export { parseFutures } from './tasks/parse-futures.task.js';
export { parseSymbols } from './tasks/parse-symbols.task.js';
export { spin } from './tasks/spin.task.js';
