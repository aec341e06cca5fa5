import {
  type ChatHistoryItem,
  type ChatWrapper,
  type LlamaModel,
  type LlamaTextJSON,
  type SpecializedChatWrapperTypeName,
  type Token,
  chatWrappers,
  resolveChatWrapper,
} from 'node-llama-cpp';
import { AppError } from '#shared/errors';

/** One message of a conversation, content already flattened to text. `developer` arrives here as `system`. */
export interface ChatTurn {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/**
 * How messages become a prompt: `auto` uses the GGUF's chat template (node-llama-cpp picks a specialised wrapper
 * or runs the Jinja template) and falls back to `raw` when the file has none; `raw` concatenates the message
 * contents as they are, with no roles (the right thing for a base model: a chat is then a continuation of its
 * text); a wrapper name forces that node-llama-cpp wrapper.
 */
export type ChatFormat = 'auto' | 'raw' | SpecializedChatWrapperTypeName;

export interface RenderedPrompt {
  tokens: Token[];
  /** Texts after which the template's turn is over (`<|im_end|>`), besides the model's end-of-generation tokens. */
  stopTexts: string[];
}

export interface PromptRenderer {
  /** `raw`, or the node-llama-cpp wrapper's name. */
  readonly name: string;
  render(turns: readonly ChatTurn[]): RenderedPrompt;
}

/** The tokens of a raw prompt: BOS when the model wants one, then the text with special tokens left as text. */
export function rawPromptTokens(model: LlamaModel, text: string): Token[] {
  const bos = model.tokens.bos;
  const tokens = model.tokenize(text, false);
  return model.tokens.shouldPrependBosToken && bos !== null ? [bos, ...tokens] : tokens;
}

class RawTranscript implements PromptRenderer {
  readonly name = 'raw';
  constructor(private readonly model: LlamaModel) {}

  render(turns: readonly ChatTurn[]): RenderedPrompt {
    return { tokens: rawPromptTokens(this.model, turns.map((turn) => turn.content).join('')), stopTexts: [] };
  }
}

/** A stop trigger's text when it is made of text only; triggers that are special tokens are end-of-generation. */
function triggerText(trigger: LlamaTextJSON): string | null {
  const values = Array.isArray(trigger) ? trigger : [trigger];
  let text = '';
  for (const value of values) {
    if (typeof value === 'string') text += value;
    else if (value.type === 'specialTokensText') text += value.value;
    else return null;
  }
  return text.length > 0 ? text : null;
}

class WrapperTemplate implements PromptRenderer {
  readonly name: string;
  constructor(
    private readonly model: LlamaModel,
    private readonly wrapper: ChatWrapper,
  ) {
    this.name = wrapper.wrapperName;
  }

  render(turns: readonly ChatTurn[]): RenderedPrompt {
    const history: ChatHistoryItem[] = turns.map((turn) =>
      turn.role === 'assistant' ? { type: 'model', response: [turn.content] } : { type: turn.role, text: turn.content },
    );
    history.push({ type: 'model', response: [] });
    try {
      const state = this.wrapper.generateContextState({ chatHistory: history });
      const stopTexts = new Set<string>();
      for (const trigger of state.stopGenerationTriggers) {
        const text = triggerText(trigger.toJSON());
        if (text !== null) stopTexts.add(text);
      }
      return { tokens: state.contextText.tokenize(this.model.tokenizer), stopTexts: [...stopTexts] };
    } catch (error) {
      throw AppError.invalid(
        'messages',
        `the model's chat template (${this.name}) cannot render these messages: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
}

/** The renderer for a model and a format (see `ChatFormat`). */
export function promptRenderer(model: LlamaModel, format: ChatFormat, hasChatTemplate: boolean): PromptRenderer {
  if (format === 'raw' || (format === 'auto' && !hasChatTemplate)) return new RawTranscript(model);
  if (format === 'auto') {
    return new WrapperTemplate(model, resolveChatWrapper(model, { fallbackToOtherWrappersOnJinjaError: true }));
  }
  const Wrapper = chatWrappers[format] as new () => ChatWrapper;
  return new WrapperTemplate(model, new Wrapper());
}
