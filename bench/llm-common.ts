import { type LlamaModel, type Token, TokenBias } from 'node-llama-cpp';

/**
 * Bans end-of-generation the way the GGUF runtime's `ignoreEos` does (TokenBias.set skips EOG tokens, so the map is
 * written directly): the LLM benchmarks generate a fixed number of tokens from the tiny model.
 */
export function banEog(model: LlamaModel): TokenBias {
  const bias = new TokenBias(model.tokenizer);
  const raw = (bias as unknown as { _biases: Map<Token, number> })._biases;
  for (const token of model.iterateAllTokens()) if (model.isEogToken(token)) raw.set(token, -Infinity);
  return bias;
}
