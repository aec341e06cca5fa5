import { z } from 'zod';

/**
 * What a hyper-parameter sweep searches over, how it judges a trial and when it stops one early. Shared by the
 * TrainOS service (which searches) and the renderer (which draws the sweep's parallel coordinates).
 */

/** How a parameter is named in a sweep: what the training script is given (`--lr`, `optimizer.momentum`). */
export const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
export const MAX_SWEEP_PARAMETERS = 20;
export const MAX_CHOICE_VALUES = 100;

/** One value a parameter takes in a trial. */
export const ParamValue = z.union([z.string().max(1000), z.number(), z.boolean()]);
export type ParamValue = string | number | boolean;
/** The values of one trial's parameters, by name. */
export type ParamSet = Record<string, ParamValue>;

const rangeIsOrdered = (p: { min: number; max: number }) => p.min < p.max;
const ORDERED = { message: 'min must be below max', path: ['max'] };

/** For a stepped range: whether more than `min` is reachable (a step wider than the range is a slip). */
const stepFitsRange = (p: { min: number; max: number; step: number }) => p.step <= p.max - p.min;
const STEP_FITS = { message: 'step must not exceed max − min (min would be the only value)', path: ['step'] };

/** A value out of a fixed list, in the list's order (the order the grid goes through them). */
export const ChoiceParameter = z.object({
  type: z.literal('choice'),
  values: z
    .array(ParamValue)
    .min(1, 'needs at least one value')
    .max(MAX_CHOICE_VALUES, `may have at most ${MAX_CHOICE_VALUES} values`)
    .superRefine((values, ctx) => {
      const seen = new Set<string>();
      for (const value of values) {
        const key = JSON.stringify(value);
        if (seen.has(key)) ctx.addIssue({ code: 'custom', message: `has ${key} more than once` });
        seen.add(key);
      }
    }),
});

/** A real number drawn evenly from [min, max]. */
export const UniformParameter = z
  .object({ type: z.literal('uniform'), min: z.number(), max: z.number() })
  .refine(rangeIsOrdered, ORDERED);

/** A positive real number whose logarithm is drawn evenly: learning rates, weight decays. */
export const LogUniformParameter = z
  .object({
    type: z.literal('loguniform'),
    min: z.number().positive('must be above 0 (the range is spread on a log scale)'),
    max: z.number(),
  })
  .refine(rangeIsOrdered, ORDERED);

/** An integer min, min + step, … up to max (max itself only when a whole number of steps away). */
export const IntParameter = z
  .object({
    type: z.literal('int'),
    min: z.number().int('must be a whole number'),
    max: z.number().int('must be a whole number'),
    step: z.number().int('must be a whole number').positive('must be above 0').default(1),
  })
  .refine(rangeIsOrdered, ORDERED)
  .refine(stepFitsRange, STEP_FITS);

/** A real number min, min + step, … up to max: a continuous range searched in steps ("dropout in 0.05s"). */
export const QUniformParameter = z
  .object({
    type: z.literal('quniform'),
    min: z.number(),
    max: z.number(),
    step: z.number().positive('must be above 0'),
  })
  .refine(rangeIsOrdered, ORDERED)
  .refine(stepFitsRange, STEP_FITS);

export const SweepParameter = z.discriminatedUnion('type', [
  ChoiceParameter,
  UniformParameter,
  LogUniformParameter,
  IntParameter,
  QUniformParameter,
]);
export type SweepParameter = z.infer<typeof SweepParameter>;
export type SweepParameterInput = z.input<typeof SweepParameter>;

/** The parameters a sweep searches over, by name, in the order its grid and its views go through them. */
export const SweepSpace = z
  .record(z.string(), SweepParameter)
  // Checked here rather than by the record's key schema, whose failure reads only "Invalid key in record".
  .superRefine((space, ctx) => {
    const names = Object.keys(space);
    if (names.length === 0) ctx.addIssue({ code: 'custom', message: 'needs at least one parameter' });
    if (names.length > MAX_SWEEP_PARAMETERS) {
      ctx.addIssue({ code: 'custom', message: `may have at most ${MAX_SWEEP_PARAMETERS} parameters` });
    }
    for (const name of names.filter((n) => !PARAM_NAME.test(n))) {
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message: `${JSON.stringify(name)} is not a parameter name: a letter or _, then letters, digits, _, . or -; 64 at most`,
      });
    }
  });
export type SweepSpace = z.infer<typeof SweepSpace>;
export type SweepSpaceInput = z.input<typeof SweepSpace>;

export const SweepGoal = z.enum(['minimize', 'maximize']);
export type SweepGoal = z.infer<typeof SweepGoal>;

/** The metric a trial is judged by: the value its run logs last under that key. */
export const SweepObjective = z.object({
  metric: z.string().min(1, 'must name a metric').max(250),
  goal: SweepGoal.describe('whether a lower (loss) or higher (accuracy) value is better'),
});
export type SweepObjective = z.infer<typeof SweepObjective>;

export const SweepAlgorithm = z
  .enum(['grid', 'random', 'tpe'])
  .describe('grid: every combination; random: independent draws; tpe: Bayesian (tree-structured Parzen estimator)');
export type SweepAlgorithm = z.infer<typeof SweepAlgorithm>;

/** A trial's state as the search sees it: `pruned` is a trial the early stopper ended. */
export const SweepTrialState = z.enum(['running', 'completed', 'failed', 'pruned']);
export type SweepTrialState = z.infer<typeof SweepTrialState>;

/**
 * Asynchronous successive halving: at steps minResource × reductionFactor^k, a trial goes on only when its value is
 * in the best 1/reductionFactor of those recorded at that step so far.
 */
export const AshaStopping = z
  .object({
    type: z.literal('asha'),
    minResource: z.number().int().min(1).describe('the step of the first rung'),
    reductionFactor: z.number().int().min(2, 'must be at least 2').max(100).default(3),
    maxResource: z.number().int().min(1).optional().describe('the step where trials end; no rung at or past it'),
  })
  .refine((c) => c.maxResource === undefined || c.maxResource > c.minResource, {
    message: 'maxResource must be above minResource',
    path: ['maxResource'],
  });
export type AshaStopping = z.infer<typeof AshaStopping>;

/** The median rule: stop a trial whose best value so far is worse than the median of the others' running averages. */
export const MedianStopping = z.object({
  type: z.literal('median'),
  warmupSteps: z.number().int().min(0).describe('no trial is stopped before this step'),
  minTrials: z.number().int().min(1).max(1000).default(5).describe('other trials that must have reached the step'),
});
export type MedianStopping = z.infer<typeof MedianStopping>;

export const EarlyStopping = z.discriminatedUnion('type', [
  z.object({ type: z.literal('none') }),
  AshaStopping,
  MedianStopping,
]);
export type EarlyStopping = z.infer<typeof EarlyStopping>;
export type EarlyStoppingInput = z.input<typeof EarlyStopping>;
