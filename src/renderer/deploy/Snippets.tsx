import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import type { Deployment } from '#shared/contracts/deploy';
import { CopyIcon } from '../components/icons';
import { Button, Card, cx, Muted } from '../components/ui';
import { useApi } from '../lib/api';
import { copyText } from '../lib/hooks';
import { useSession } from '../lib/session';
import { useToasts } from '../lib/toasts';
import { isTensorRuntime } from './deploy-form';
import { getJson } from './inference';
import type { MetadataTensor } from './predict';
import { API_KEY_ENV, baseUrlOf, snippets, type SnippetKind, type SnippetLanguage } from './snippets';
import { playgroundKindOf } from './stats';

const TITLES: Record<SnippetKind, string> = {
  chat: 'Call it: chat completions',
  embedding: 'Call it: embeddings',
  tensor: 'Call it: v2 inference',
  tabular: 'Call it: predict from rows',
};

function snippetKindOf(d: Deployment): SnippetKind {
  if (isTensorRuntime(d.runtime)) return d.modelKind?.startsWith('tabular') ? 'tabular' : 'tensor';
  return playgroundKindOf(d) === 'embedding' ? 'embedding' : 'chat';
}

/** What a snippet needs installed: OpenAI's client for the OpenAI endpoints, requests for Python's HTTP calls. */
function installHint(language: SnippetLanguage | undefined, kind: SnippetKind): string | null {
  const openai = kind === 'chat' || kind === 'embedding';
  if (language === 'python') return openai ? 'pip install openai' : 'pip install requests';
  if (language === 'javascript' && openai) return 'npm install openai';
  return null;
}

/** Client code for the deployment's endpoint, in curl, Python and JavaScript, each with a copy button. */
export function Snippets({ deployment }: { deployment: Deployment }) {
  const api = useApi();
  const push = useToasts((s) => s.push);
  const [language, setLanguage] = useState<SnippetLanguage>('curl');
  const origin = new URL(api.baseUrl).origin;
  const kind = snippetKindOf(deployment);
  const token = useSession((st) => st.token);
  // An ONNX model's first input makes the example request one it accepts.
  const metadata = useQuery({
    queryKey: ['deploy', 'v2-metadata', deployment.name],
    queryFn: () => getJson({ baseUrl: api.baseUrl, token }, `/v2/models/${encodeURIComponent(deployment.name)}`),
    staleTime: 60_000,
    enabled: kind === 'tensor',
  });
  const input = (metadata.data as { inputs?: MetadataTensor[] } | undefined)?.inputs?.[0];
  const all = snippets({ origin, model: deployment.name, kind, input, columns: deployment.inputColumns });
  const current = all.find((s) => s.language === language) ?? all[0];
  const copy = async () => {
    if (!current) return;
    const ok = await copyText(current.code);
    push(
      ok ? { tone: 'success', title: 'Copied' } : { tone: 'error', title: 'Could not copy: select the text instead' },
    );
  };
  return (
    <Card title={TITLES[kind]} data-testid="snippets" bodyClassName="space-y-3 p-4">
      <p className="text-zinc-600 dark:text-zinc-400">
        {kind === 'chat' || kind === 'embedding' ? (
          <>
            Any OpenAI client works: base URL <code className="font-mono text-[12px]">{baseUrlOf(origin)}</code>, model{' '}
            <code className="font-mono text-[12px]">{deployment.name}</code>
          </>
        ) : kind === 'tensor' ? (
          <>
            KServe’s Open Inference Protocol (v2): any v2 client works against{' '}
            <code className="font-mono text-[12px]">{origin}/v2</code>, model{' '}
            <code className="font-mono text-[12px]">{deployment.name}</code>
          </>
        ) : (
          <>JSON rows in, one prediction per row out, with the model’s saved preprocessing applied</>
        )}
        , and an AI-DOS API key (Settings → API keys; the <code className="font-mono text-[12px]">read</code> scope is
        enough) in <code className="font-mono text-[12px]">${API_KEY_ENV}</code>.
      </p>
      <div className="flex items-center justify-between gap-2">
        <div
          role="tablist"
          aria-label="Language"
          className="inline-flex overflow-hidden rounded-md border border-zinc-300 dark:border-zinc-700"
        >
          {all.map((s) => (
            <button
              key={s.language}
              type="button"
              role="tab"
              aria-selected={s.language === current?.language}
              onClick={() => setLanguage(s.language)}
              className={cx(
                'h-7 px-3 text-[12px] font-medium',
                s.language === current?.language
                  ? 'bg-zinc-800 text-white dark:bg-zinc-200 dark:text-zinc-900'
                  : 'bg-white text-zinc-700 hover:bg-zinc-50 dark:bg-zinc-900 dark:text-zinc-300 dark:hover:bg-zinc-800',
              )}
            >
              {s.label}
            </button>
          ))}
        </div>
        <Button size="sm" onClick={() => void copy()}>
          <CopyIcon width={13} height={13} /> Copy
        </Button>
      </div>
      <pre
        data-testid="snippet"
        data-language={current?.language}
        className="overflow-x-auto rounded-md border border-zinc-200 bg-zinc-50 p-3 font-mono text-[12px] leading-relaxed text-zinc-800 dark:border-zinc-800 dark:bg-zinc-950 dark:text-zinc-200"
      >
        {current?.code}
      </pre>
      {installHint(current?.language, kind) && (
        <Muted className="block text-[12px]">
          Install the client with <code className="font-mono">{installHint(current?.language, kind)}</code>.
        </Muted>
      )}
      {kind === 'tabular' && !deployment.inputColumns && (
        <Muted className="block text-[12px]">
          The example row’s columns are placeholders: the model’s own show once it is loaded.
        </Muted>
      )}
    </Card>
  );
}
