import { useMutation, useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import type { Deployment, PredictInput, PredictOutput } from '#shared/contracts/deploy';
import { ErrorBanner } from '../components/ErrorBanner';
import { Button, Card, inputClasses, Muted, Spinner } from '../components/ui';
import { useApi } from '../lib/api';
import { useSession } from '../lib/session';
import { getJson } from './inference';
import {
  columnsOf,
  parseRows,
  predictionCells,
  tensorSummary,
  tensorTemplate,
  type MetadataTensor,
  type Row,
} from './predict';

/**
 * A tensor deployment's (ONNX, TF.js) playground, through `deployments.predict`: for a tabular model a table of
 * rows (typed as CSV or JSON) with each row's prediction, for any other model its input tensors as JSON (a template made from
 * the model's inputs) and its output tensors.
 */
export function PredictPlayground({ deployment }: { deployment: Deployment }) {
  return deployment.modelKind?.startsWith('tabular') ? (
    <TabularPlayground name={deployment.name} />
  ) : (
    <TensorPlayground name={deployment.name} />
  );
}

function usePredict(name: string) {
  const api = useApi();
  return useMutation({
    mutationFn: (input: Omit<PredictInput, 'deployment'>) =>
      api.call('deployments.predict', { deployment: name, ...input }),
  });
}

function TabularPlayground({ name }: { name: string }) {
  const [text, setText] = useState('');
  const predict = usePredict(name);
  const parsed = text.trim() === '' ? null : parseRows(text);
  const [sent, setSent] = useState<Row[]>([]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!parsed || 'error' in parsed) return;
    setSent(parsed.rows);
    predict.mutate({ rows: parsed.rows });
  };
  const predictions = predict.data?.predictions ?? [];
  const columns = columnsOf(sent);
  return (
    <div className="space-y-4" data-testid="tabular-playground">
      <Card title="Rows to predict">
        <form onSubmit={submit} className="space-y-2">
          <textarea
            aria-label="Rows"
            value={text}
            onChange={(e) => setText(e.target.value)}
            rows={6}
            placeholder={
              'CSV with a header line (paste from a spreadsheet), or JSON rows:\nsepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2'
            }
            className={inputClasses({ multiline: true, mono: true })}
            spellCheck={false}
          />
          <div className="flex items-center justify-between gap-3">
            <Muted className="text-[12px]">
              {parsed === null
                ? 'Every feature column of the model is needed (empty for a value not known); the target column is ignored.'
                : 'error' in parsed
                  ? parsed.error
                  : `${parsed.rows.length} ${parsed.rows.length === 1 ? 'row' : 'rows'} · ${columnsOf(parsed.rows).length} columns`}
            </Muted>
            <Button variant="primary" type="submit" disabled={!parsed || 'error' in parsed || predict.isPending}>
              {predict.isPending ? 'Predicting…' : 'Predict'}
            </Button>
          </div>
        </form>
      </Card>
      {predict.isError && <ErrorBanner error={predict.error} title="No prediction" />}
      {predict.isSuccess && (
        <Card title="Predictions" bodyClassName="overflow-x-auto p-0" data-testid="predictions">
          <table className="w-full text-left" aria-label="Predictions">
            <thead className="text-[11px] font-medium tracking-wide text-zinc-500 uppercase dark:text-zinc-400">
              <tr className="border-b border-zinc-200 dark:border-zinc-800">
                <th className="px-4 py-2 font-medium">#</th>
                {columns.map((c) => (
                  <th key={c} className="px-4 py-2 font-medium normal-case">
                    {c}
                  </th>
                ))}
                <th className="bg-indigo-50/60 px-4 py-2 font-medium dark:bg-indigo-950/30">Prediction</th>
                <th className="bg-indigo-50/60 px-4 py-2 text-right font-medium dark:bg-indigo-950/30">Probability</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800/80">
              {predictions.map((p, i) => {
                const cells = predictionCells(p);
                const row = sent[i] ?? {};
                return (
                  <tr key={i} data-testid="prediction-row">
                    <td className="px-4 py-1.5 text-zinc-500 tabular-nums">{i + 1}</td>
                    {columns.map((c) => (
                      <td key={c} className="px-4 py-1.5 font-mono text-[12px]">
                        {row[c] === null || row[c] === undefined ? <Muted>—</Muted> : String(row[c])}
                      </td>
                    ))}
                    <td
                      className="bg-indigo-50/60 px-4 py-1.5 font-medium dark:bg-indigo-950/30"
                      data-testid="prediction"
                    >
                      {cells.prediction}
                    </td>
                    <td className="bg-indigo-50/60 px-4 py-1.5 text-right tabular-nums dark:bg-indigo-950/30">
                      {cells.confidence === null ? <Muted>—</Muted> : `${(cells.confidence * 100).toFixed(1)}%`}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </Card>
      )}
    </div>
  );
}

function TensorPlayground({ name }: { name: string }) {
  const api = useApi();
  const token = useSession((s) => s.token);
  // The model's inputs, from the Open Inference Protocol's metadata: the template's names and shapes.
  const metadata = useQuery({
    queryKey: ['deploy', 'v2-metadata', name],
    queryFn: () => getJson({ baseUrl: api.baseUrl, token }, `/v2/models/${encodeURIComponent(name)}`),
    staleTime: 60_000,
  });
  const inputs = (metadata.data as { inputs?: MetadataTensor[] } | undefined)?.inputs ?? [];
  const [typed, setTyped] = useState<string | null>(null);
  const text = typed ?? (inputs.length > 0 ? tensorTemplate(inputs) : '');
  const predict = usePredict(name);
  const [parseError, setParseError] = useState<string | null>(null);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      // The last answer was for other input: it goes with the refusal.
      predict.reset();
      setParseError(`Not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    const inputsOf = (body as { inputs?: unknown } | null)?.inputs;
    if (typeof inputsOf !== 'object' || inputsOf === null || Array.isArray(inputsOf)) {
      predict.reset();
      setParseError('Give {"inputs": {"<input name>": {"shape": [...], "data": [...]}}}.');
      return;
    }
    setParseError(null);
    predict.mutate({ inputs: inputsOf as NonNullable<PredictInput['inputs']> });
  };
  return (
    <div className="grid grid-cols-1 gap-4 xl:grid-cols-2" data-testid="tensor-playground">
      <Card
        title="Input tensors"
        actions={
          metadata.isPending ? (
            <Spinner small />
          ) : inputs.length > 0 ? (
            <Muted className="font-mono text-[11px]">
              {inputs.map((i) => `${i.name} ${i.datatype} [${i.shape.join(', ')}]`).join(' · ')}
            </Muted>
          ) : null
        }
      >
        <form onSubmit={submit} className="space-y-2">
          <textarea
            aria-label="Input tensors (JSON)"
            value={text}
            onChange={(e) => setTyped(e.target.value)}
            rows={12}
            className={inputClasses({ multiline: true, mono: true })}
            spellCheck={false}
          />
          {parseError && <p className="text-[12px] text-red-700 dark:text-red-400">{parseError}</p>}
          <div className="flex justify-end gap-2">
            {typed !== null && inputs.length > 0 && (
              <Button variant="ghost" onClick={() => setTyped(null)}>
                Reset to a template
              </Button>
            )}
            <Button variant="primary" type="submit" disabled={predict.isPending || text.trim() === ''}>
              {predict.isPending ? 'Predicting…' : 'Predict'}
            </Button>
          </div>
        </form>
      </Card>
      <div className="space-y-3">
        {predict.isError && <ErrorBanner error={predict.error} title="No prediction" />}
        {predict.data && <TensorOutputs output={predict.data} />}
        {!predict.data && !predict.isError && (
          <Card>
            <p className="py-6 text-center text-zinc-500 dark:text-zinc-400">The output tensors appear here.</p>
          </Card>
        )}
      </div>
    </div>
  );
}

function TensorOutputs({ output }: { output: PredictOutput }) {
  const entries = Object.entries(output.outputs ?? {});
  return (
    <Card
      title="Output tensors"
      data-testid="predict-outputs"
      actions={output.modelVersion !== null && <Muted className="text-[12px]">version {output.modelVersion}</Muted>}
    >
      <ul className="space-y-3">
        {entries.map(([name, t]) => {
          const s = tensorSummary(t.data);
          return (
            <li key={name}>
              <p>
                <span className="font-mono font-medium">{name}</span>{' '}
                <Muted className="font-mono text-[12px]">
                  {t.datatype} [{t.shape.join(', ')}]{s.argmax !== null && ` · largest at ${s.argmax}`}
                </Muted>
              </p>
              <pre className="mt-1 overflow-x-auto rounded-md border border-zinc-200 bg-zinc-50 p-2 font-mono text-[12px] dark:border-zinc-800 dark:bg-zinc-950">
                [{s.head}]
              </pre>
            </li>
          );
        })}
      </ul>
    </Card>
  );
}
