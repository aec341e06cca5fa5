import { z } from 'zod';
import { ColumnType } from './dataforge';

// The parameters of TrainOS's built-in trainers: a training job's spec embeds them (`kind: 'builtin'`), and the
// trainers in the main process's builtin-training library read them with their defaults applied.

export const BUILTIN_TRAINER_KINDS = [
  'tabular-classifier',
  'tabular-regressor',
  'image-classifier',
  'text-classifier',
] as const;
export const BuiltinTrainerKind = z
  .enum(BUILTIN_TRAINER_KINDS)
  .describe(
    'tabular-classifier / tabular-regressor: an MLP over a table (CSV, TSV, JSONL); image-classifier: a small CNN ' +
      'over an image folder (one subfolder of PNGs per class) or IDX files (Fashion-MNIST style); text-classifier: ' +
      'an embedding bag over a text column',
  );
export type BuiltinTrainerKind = z.infer<typeof BuiltinTrainerKind>;

const positiveInts = (what: string, max: number) =>
  z.array(z.number().int().min(1).max(max, `${what} are at most ${max} each`));

/**
 * The parameters of a built-in training job: the job spec and the REST API embed this schema, so every field is
 * described and has its default here.
 */
export const BuiltinTrainerParams = z
  .strictObject({
    kind: BuiltinTrainerKind,
    file: z
      .string()
      .min(1)
      .optional()
      .describe(
        'The table file or image set (a folder of class subfolders, or an *-images-idx3-ubyte[.gz] file) inside the ' +
          'dataset, as a relative path; default: the first one found (a folder named train is preferred)',
      ),
    target: z.string().min(1).optional().describe('The label column (tabular and text kinds; required there)'),
    textColumn: z.string().min(1).default('text').describe('The text column (text-classifier)'),
    features: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('The feature columns (tabular kinds); default: every column but the target and the split column'),
    schema: z
      .array(z.object({ name: z.string(), type: ColumnType }))
      .optional()
      .describe(
        "The dataset's declared column types (DataForge); integer/number/datetime columns are numeric, boolean/string " +
          'columns categorical, empty columns left out. Without it: a column whose values all parse as numbers is ' +
          'numeric, any other is categorical',
      ),
    splitColumn: z
      .string()
      .min(1)
      .default('split')
      .describe(
        'A column that assigns rows to train, validation (also val, valid, dev) or test; used when the table has ' +
          'it. Test rows are only evaluated at the end (test_* metrics)',
      ),
    epochs: z.number().int().min(1).max(10_000).default(20).describe('Epochs to train at most'),
    batchSize: z.number().int().min(1).max(65_536).default(32).describe('Examples per gradient step'),
    learningRate: z.number().positive().max(10).default(0.001).describe('Adam learning rate'),
    validationSplit: z
      .number()
      .min(0)
      .max(0.9)
      .default(0.2)
      .describe(
        'Share of the training rows held out for validation (a seeded random split); 0 = none (early stopping then ' +
          'watches the training loss)',
      ),
    earlyStoppingPatience: z
      .number()
      .int()
      .min(0)
      .default(5)
      .describe('Epochs without a lower validation loss before training stops (the best weights are kept); 0 = off'),
    hiddenUnits: positiveInts('hidden units', 4096)
      .max(8)
      .optional()
      .describe(
        'Hidden dense layers (ReLU): for tabular kinds the MLP (default [64, 32]); for text and image kinds between ' +
          'the embedding bag or the last convolution block and the output (default none)',
      ),
    convFilters: positiveInts('convolution filters', 512)
      .min(1)
      .max(3)
      .default([16, 32])
      .describe('image-classifier: filters of each 3x3 convolution block (conv, batch norm, ReLU, 2x2 max pool)'),
    imageSize: z
      .tuple([z.number().int().min(4).max(1024), z.number().int().min(4).max(1024)])
      .optional()
      .describe(
        'image-classifier: [height, width] the images are resized to (nearest neighbour); default: the size of ' +
          'the first image',
      ),
    embeddingDim: z.number().int().min(1).max(1024).default(32).describe('text-classifier: embedding size'),
    minTokenCount: z
      .number()
      .int()
      .min(1)
      .default(1)
      .describe('text-classifier: a token enters the vocabulary when it occurs this often in the training rows'),
    maxVocabulary: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(10_000)
      .describe('text-classifier: the most frequent tokens kept'),
    maxCategories: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .default(100)
      .describe(
        'tabular kinds: the most frequent values of a categorical column one-hot encoded; rarer ones encode as unknown',
      ),
    maxSamples: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('At most this many examples of each file or split set (a seeded random subset), for quick runs'),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(42)
      .describe('Seeds the split, the shuffles and the initial weights'),
  })
  .superRefine((params, ctx) => {
    if (params.kind !== 'image-classifier' && params.target === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['target'],
        message: `target (the label column) is required for kind '${params.kind}'`,
      });
  });
/** The parameters with their defaults applied (what the trainer works with). */
export type BuiltinTrainerParams = z.output<typeof BuiltinTrainerParams>;
/** What a caller may pass: any field with a default may be left out. */
export type BuiltinTrainerParamsInput = z.input<typeof BuiltinTrainerParams>;

/** "tabular-classifier target=species epochs=20 …": what a trainer was asked, for people (column types left out). */
export function trainerSummary(trainer: BuiltinTrainerParamsInput): string {
  const settings = Object.entries(trainer)
    .filter(([key, value]) => key !== 'kind' && key !== 'schema' && value !== undefined)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  return [trainer.kind, ...settings].join(' ');
}
