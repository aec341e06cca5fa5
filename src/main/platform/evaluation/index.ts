/**
 * EvalKit's statistics: pure computation over typed arrays, usable on the main thread and in worker threads.
 * Classification and regression metrics (scikit-learn's definitions), slices, bootstrap confidence intervals,
 * data and prediction drift, and A/B test statistics.
 */
export * from './ab.ts';
export * from './bootstrap.ts';
export * from './classification.ts';
export * from './drift.ts';
export type { Label, NumericColumn } from './input.ts';
export * from './regression.ts';
export * from './slices.ts';
export * from './special.ts';
export * from './parallel.ts';
