/**
 * The piscina task module: every CPU-heavy kernel the worker offloads, by name. Tasks are
 * pure (plain data and typed arrays in and out, no I/O, no clock).
 */
export { continuous } from '../futures/continuous.task.js';
export { generateScenario } from '../scenarios/generate-scenario.task.js';
export { aggregateChunk } from '../bars/aggregate-chunk.task.js';
export { aggregateSlice } from '../bars/aggregate-slice.task.js';
export { parseBars } from '../bars/parse-bars.task.js';
export { parseFutures } from '../futures/parse-futures.task.js';
export { parseSymbols } from '../universes/parse-symbols.task.js';
export { spin } from '../shared/spin.task.js';
export { detect } from '../patterns/detect.task.js';
export { analyzePatternsKernel } from '../patterns/analyze-patterns.task.js';
