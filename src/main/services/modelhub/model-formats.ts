/**
 * The model-format readers moved to `#platform/model-formats` so that DeployEngine (and its worker threads) can
 * read ONNX signatures too without reaching into ModelHub; ModelHub's files keep importing them from here.
 */
export * from '#platform/model-formats';
