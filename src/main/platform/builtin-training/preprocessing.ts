import type { BuiltinTrainerKind } from './params';

/** One input or output of the ONNX graph. `'batch'` (and `'tokens'`) are dynamic dimensions. */
export interface TensorSpec {
  name: string;
  dtype: 'float32' | 'int64';
  shape: (number | string)[];
}

export const PREPROCESSING_FORMAT = 'aidos.builtin-trainer/1';
/** Where an exported model keeps its preprocessing: ONNX metadata_props, TF.js userDefinedMetadata. */
export const PREPROCESSING_METADATA_KEY = 'aidos.preprocessing';

interface PreprocessingBase {
  format: typeof PREPROCESSING_FORMAT;
  kind: BuiltinTrainerKind;
  /** The graph's one input. */
  input: TensorSpec;
  /**
   * The graph's one output: classifiers `probabilities` float32 [batch, labels.length] (softmax, in `labels`
   * order); the regressor `value` float32 [batch, 1] in the target's units.
   */
  output: TensorSpec;
  /** Classifiers: the class of each output index. Null for the regressor. */
  labels: string[] | null;
}

/**
 * How one table column fills the input vector. A cell is text (a JSON number or boolean as its text); empty or
 * blank text, null and an absent value are missing. `numeric`: the number at `index` (a decimal like `-1.5e3`;
 * missing or anything else → NaN); `datetime`: days since 1970-01-01 UTC (`Date.parse(text) / 86400000`) at
 * `index`; `one-hot`: 1 at `index + i` for the value equal to `categories[i]` (exact text; `null` stands for a
 * missing value), all zeros for a value not in the list. Imputation and scaling are in the graph: it replaces NaN
 * with `mean` and computes `(x - mean) / std`; `mean` and `std` are given here for reference only.
 */
export type FeatureEncoding =
  | { column: string; encoding: 'numeric' | 'datetime'; index: number; mean: number; std: number }
  | { column: string; encoding: 'one-hot'; index: number; categories: (string | null)[] };

/**
 * tabular-classifier / tabular-regressor. Input `features` float32 [batch, inputSize], built from a row's cells
 * by `features` (see `FeatureEncoding`; the cells are text as in the CSV, numbers and booleans of JSON as their
 * text). The regressor's output is de-standardised inside the graph (`value = z * targetScaling.std +
 * targetScaling.mean`).
 */
export interface TabularPreprocessing extends PreprocessingBase {
  kind: 'tabular-classifier' | 'tabular-regressor';
  target: string;
  inputSize: number;
  features: FeatureEncoding[];
  targetScaling: { mean: number; std: number } | null;
}

/**
 * image-classifier. Input `image` float32 [batch, channels, height, width] (NCHW): the PNG decoded to 8-bit
 * RGB(A), alpha ignored, resized to height × width by nearest neighbour (source pixel
 * `floor((y + 0.5) * srcHeight / height)`, likewise x), each value divided by 255. One channel: the grey level
 * (0.299 R + 0.587 G + 0.114 B of a colour image); three: R, G, B (a grey image repeated). IDX images are grey
 * already.
 */
export interface ImagePreprocessing extends PreprocessingBase {
  kind: 'image-classifier';
  height: number;
  width: number;
  channels: 1 | 3;
  resize: 'nearest';
  scale: 'divide-by-255';
}

/**
 * text-classifier. Input `tokens` int64 [batch, tokens]: the text lower-cased, split on `tokenizer.splitPattern`
 * (a JavaScript RegExp source with flag `u`: runs of characters that are neither letters nor digits), empty
 * pieces dropped, each token replaced by its id (`vocabulary[id - 1]`), tokens not in the vocabulary by 0. Rows
 * are right-padded with 0 to the longest; 0 is ignored (the model averages the embeddings of the known tokens; a
 * text without any gives the bias-only output). Any length works.
 */
export interface TextPreprocessing extends PreprocessingBase {
  kind: 'text-classifier';
  textColumn: string;
  tokenizer: { lowercase: true; splitPattern: string };
  vocabulary: string[];
}

/**
 * Everything a server needs to turn raw rows, images or texts into the ONNX input and the output back into
 * labels or values. JSON-serialisable; `format` names this layout's version.
 */
export type Preprocessing = TabularPreprocessing | ImagePreprocessing | TextPreprocessing;
