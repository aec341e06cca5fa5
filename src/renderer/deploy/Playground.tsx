import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import type { Deployment } from '#shared/contracts/deploy';
import { ErrorBanner } from '../components/ErrorBanner';
import { Button, Card, cx, EmptyState, inputClass, inputClasses, Muted, Spinner } from '../components/ui';
import { useApi } from '../lib/api';
import { useSession } from '../lib/session';
import { SendIcon, StopIcon } from './icons';
import { PredictPlayground } from './PredictPlayground';
import {
  embed,
  streamChat,
  type ChatResult,
  type ChatTurn,
  type EmbeddingResult,
  type InferenceTarget,
} from './inference';
import { formatMs, playgroundKindOf } from './stats';

/** The session's way to the inference APIs: the core's URL and the same bearer token as the typed client. */
function useInferenceTarget(): InferenceTarget {
  const api = useApi();
  const token = useSession((s) => s.token);
  return { baseUrl: api.baseUrl, token };
}

/**
 * Tries a deployment: a streaming chat for LLMs, a text box for embedding models, predictions for tensor models
 * (ONNX, TF.js).
 */
export function Playground({ deployment }: { deployment: Deployment }) {
  const kind = playgroundKindOf(deployment);
  if (deployment.state === 'stopped' || deployment.state === 'failed') {
    return (
      <Card>
        <EmptyState
          title={deployment.state === 'failed' ? `${deployment.name} failed` : `${deployment.name} is stopped`}
        >
          {deployment.state === 'stopped'
            ? 'Start it to try it here.'
            : `It cannot serve requests: ${deployment.reason ?? 'it failed to load'}.`}
        </EmptyState>
      </Card>
    );
  }
  if (kind === 'embedding') return <EmbeddingPlayground model={deployment.name} />;
  if (kind === 'chat') return <ChatPlayground model={deployment.name} />;
  if (kind === 'predict') return <PredictPlayground deployment={deployment} />;
  return (
    <Card>
      <EmptyState title="No playground for this deployment yet">
        Its runtime ({deployment.runtime}) has no form here; use the snippets under Code.
      </EmptyState>
    </Card>
  );
}

interface Turn extends ChatTurn {
  /** The assistant's answer: how it ended. */
  result?: ChatResult & { ms: number };
}

function ChatPlayground({ model }: { model: string }) {
  const target = useInferenceTarget();
  const [turns, setTurns] = useState<Turn[]>([]);
  const [system, setSystem] = useState('');
  const [temperature, setTemperature] = useState('0.7');
  const [maxTokens, setMaxTokens] = useState('256');
  const [prompt, setPrompt] = useState('');
  const [streaming, setStreaming] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const controller = useRef<AbortController | null>(null);
  const end = useRef<HTMLDivElement>(null);

  // Leaving the page stops a generation in progress (the server frees its slot).
  useEffect(() => () => controller.current?.abort(), []);
  useEffect(() => {
    end.current?.scrollIntoView?.({ block: 'nearest' });
  }, [streaming, turns.length]);

  const send = async (e?: FormEvent) => {
    e?.preventDefault();
    const text = prompt.trim() === '' ? '' : prompt;
    if (text === '' || streaming !== null) return;
    const history: Turn[] = [...turns, { role: 'user', content: text }];
    setTurns(history);
    setPrompt('');
    setError(null);
    setStreaming('');
    const abort = new AbortController();
    controller.current = abort;
    const started = performance.now();
    const t = Number(temperature);
    const max = maxTokens.trim() === '' ? null : Number(maxTokens);
    let partial = '';
    try {
      const messages: ChatTurn[] = [
        ...(system.trim() ? [{ role: 'system' as const, content: system }] : []),
        ...history.map(({ role, content }) => ({ role, content })),
      ];
      const result = await streamChat(
        target,
        { model, messages, temperature: Number.isFinite(t) ? t : 0.7, maxTokens: max },
        (delta) => {
          partial += delta;
          setStreaming(partial);
        },
        abort.signal,
      );
      setTurns([
        ...history,
        { role: 'assistant', content: result.text, result: { ...result, ms: performance.now() - started } },
      ]);
    } catch (err) {
      if (abort.signal.aborted) {
        // Stopped by the user: what came so far stays as the answer.
        setTurns([...history, { role: 'assistant', content: partial }]);
      } else {
        // Not answered: the message goes back to the box (to change or send again), not into the history that
        // the next message would send along.
        setTurns(turns);
        setPrompt(text);
        setError(err);
      }
    } finally {
      setStreaming(null);
      controller.current = null;
    }
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void send();
    }
  };

  return (
    <div className="grid grid-cols-1 gap-4 xl:grid-cols-[minmax(0,1fr)_18rem]" data-testid="chat-playground">
      <Card
        title="Chat"
        bodyClassName="flex min-h-[24rem] flex-col p-0"
        actions={
          <Button
            size="sm"
            variant="ghost"
            onClick={() => {
              setTurns([]);
              setError(null);
            }}
            disabled={streaming !== null || turns.length === 0}
          >
            Clear
          </Button>
        }
      >
        <div className="flex-1 space-y-3 overflow-y-auto px-4 py-4" aria-live="polite" data-testid="chat-messages">
          {turns.length === 0 && streaming === null && (
            <p className="py-10 text-center text-zinc-500 dark:text-zinc-400">
              Send a message to <span className="font-mono">{model}</span>; the answer streams in as it is generated.
            </p>
          )}
          {turns.map((turn, i) => (
            <Message key={i} turn={turn} />
          ))}
          {streaming !== null && <Message turn={{ role: 'assistant', content: streaming }} streaming />}
          {error !== null && <ErrorBanner error={error} title="The model did not answer" />}
          <div ref={end} />
        </div>
        <form
          onSubmit={(e) => void send(e)}
          className="flex items-end gap-2 border-t border-zinc-200 p-3 dark:border-zinc-800"
        >
          <textarea
            aria-label="Message"
            value={prompt}
            onChange={(e) => setPrompt(e.target.value)}
            onKeyDown={onKeyDown}
            rows={2}
            placeholder="Write a message (Enter sends, Shift+Enter for a new line)"
            className={cx(inputClasses({ multiline: true }), 'min-h-[3.25rem]')}
          />
          {streaming !== null ? (
            <Button variant="danger" onClick={() => controller.current?.abort()}>
              <StopIcon width={14} height={14} /> Stop generating
            </Button>
          ) : (
            <Button variant="primary" type="submit" disabled={prompt.trim() === ''}>
              <SendIcon width={14} height={14} /> Send
            </Button>
          )}
        </form>
      </Card>
      <Card title="Settings">
        <div className="space-y-3">
          <div>
            <label htmlFor="pg-temperature" className="mb-1 block font-medium">
              Temperature
            </label>
            <div className="flex items-center gap-2">
              <input
                type="range"
                aria-label="Temperature slider"
                min={0}
                max={2}
                step={0.1}
                value={temperature}
                onChange={(e) => setTemperature(e.target.value)}
                className="min-w-0 flex-1 accent-indigo-600"
              />
              <input
                id="pg-temperature"
                type="number"
                min={0}
                max={2}
                step={0.1}
                value={temperature}
                onChange={(e) => setTemperature(e.target.value)}
                className={cx(inputClasses({ width: 'w-16' }), 'shrink-0 tabular-nums')}
              />
            </div>
            <Muted className="text-[12px]">0 always picks the likeliest token: the same answer each time.</Muted>
          </div>
          <label className="block">
            <span className="mb-1 block font-medium">Max tokens</span>
            <input
              type="number"
              min={1}
              step={1}
              value={maxTokens}
              onChange={(e) => setMaxTokens(e.target.value)}
              placeholder="up to the context"
              className={`${inputClass} tabular-nums`}
            />
          </label>
          <label className="block">
            <span className="mb-1 block font-medium">System prompt</span>
            <textarea
              value={system}
              onChange={(e) => setSystem(e.target.value)}
              rows={3}
              placeholder="optional"
              className={inputClasses({ multiline: true })}
            />
          </label>
        </div>
      </Card>
    </div>
  );
}

function Message({ turn, streaming = false }: { turn: Turn; streaming?: boolean }) {
  const user = turn.role === 'user';
  const r = turn.result;
  return (
    <div className={cx('flex flex-col', user ? 'items-end' : 'items-start')}>
      <div
        data-testid="chat-message"
        data-role={turn.role}
        data-streaming={streaming || undefined}
        className={cx(
          'max-w-[85%] rounded-lg px-3 py-2 whitespace-pre-wrap',
          user
            ? 'bg-indigo-600 text-white'
            : 'border border-zinc-200 bg-zinc-50 text-zinc-900 dark:border-zinc-800 dark:bg-zinc-800/60 dark:text-zinc-100',
        )}
      >
        {turn.content}
        {streaming && (
          <span className="ml-0.5 inline-block h-3.5 w-1.5 animate-pulse rounded-sm bg-current align-[-2px] opacity-60" />
        )}
      </div>
      {r && (
        <p className="mt-0.5 text-[11px] text-zinc-500 tabular-nums dark:text-zinc-400" data-testid="chat-result">
          {r.stopped ? 'stopped' : (r.finishReason ?? 'ended')} · {formatMs(r.ms)}
          {r.usage && ` · ${r.usage.promptTokens} → ${r.usage.completionTokens} tokens`}
          {r.usage && r.ms > 0 && ` · ${((r.usage.completionTokens / r.ms) * 1000).toFixed(1)} tokens/s`}
        </p>
      )}
      {streaming && (
        <p className="mt-0.5 flex items-center gap-1.5 text-[11px] text-zinc-500 dark:text-zinc-400">
          <Spinner small /> generating…
        </p>
      )}
    </div>
  );
}

function EmbeddingPlayground({ model }: { model: string }) {
  const target = useInferenceTarget();
  const [text, setText] = useState('');
  const [result, setResult] = useState<EmbeddingResult | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [pending, setPending] = useState(false);
  const run = async (e: FormEvent) => {
    e.preventDefault();
    if (text.trim() === '') return;
    setPending(true);
    setError(null);
    try {
      setResult(await embed(target, model, text));
    } catch (err) {
      setError(err);
    } finally {
      setPending(false);
    }
  };
  const norm = result ? Math.hypot(...result.vector) : 0;
  return (
    <Card title="Embed a text" data-testid="embedding-playground">
      <form onSubmit={(e) => void run(e)} className="space-y-3">
        <textarea
          aria-label="Text"
          value={text}
          onChange={(e) => setText(e.target.value)}
          rows={3}
          placeholder="A sentence to embed"
          className={inputClasses({ multiline: true })}
        />
        <Button variant="primary" type="submit" disabled={pending || text.trim() === ''}>
          {pending ? 'Embedding…' : 'Embed'}
        </Button>
      </form>
      {error !== null && <ErrorBanner className="mt-3" error={error} title="No vector" />}
      {result && (
        <div className="mt-4 space-y-2" data-testid="embedding-result">
          <p>
            <span className="font-medium" data-testid="embedding-size">
              {result.vector.length} dimensions
            </span>
            <Muted>
              {' '}
              · norm {norm.toFixed(4)}
              {result.promptTokens !== null && ` · ${result.promptTokens} tokens`}
            </Muted>
          </p>
          <pre className="overflow-x-auto rounded-md border border-zinc-200 bg-zinc-50 p-2 font-mono text-[12px] dark:border-zinc-800 dark:bg-zinc-950">
            [
            {result.vector
              .slice(0, 8)
              .map((x) => x.toFixed(5))
              .join(', ')}
            {result.vector.length > 8 ? ', …' : ''}]
          </pre>
        </div>
      )}
    </Card>
  );
}
