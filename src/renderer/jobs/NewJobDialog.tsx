import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { Dialog } from '../components/Dialog';
import { ErrorBanner } from '../components/ErrorBanner';
import { Button, inputClass, inputClasses } from '../components/ui';
import { queryKeys, useApi } from '../lib/api';
import { useToasts } from '../lib/toasts';
import { shortId } from '../lib/format';

/** Enqueues a background task (a queue job) of any registered type with a JSON payload: for diagnostics and for trying the queue out. */
export function NewJobDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const push = useToasts((s) => s.push);
  const types = useQuery({
    queryKey: ['jobs', 'types'],
    queryFn: () => api.call('jobs.types'),
    enabled: open,
    staleTime: 60_000,
  });
  const [type, setType] = useState('');
  const [payload, setPayload] = useState('{}');
  const [priority, setPriority] = useState(0);
  const [jsonError, setJsonError] = useState<string | null>(null);

  const first = types.data?.items[0]?.type;
  useEffect(() => {
    if (!type && first) {
      setType(first);
      if (first === 'system.sleep') setPayload('{ "ms": 5000, "steps": 10 }');
    }
  }, [first, type]);

  const enqueue = useMutation({
    mutationFn: (input: { type: string; payload: unknown; priority: number }) => api.call('jobs.enqueue', input),
    onSuccess: (job) => {
      void queryClient.invalidateQueries({ queryKey: queryKeys.jobs });
      push({ tone: 'success', title: `Enqueued ${job.type} ${shortId(job.id)}` });
      close();
    },
  });

  function close() {
    enqueue.reset();
    setJsonError(null);
    onClose();
  }

  const submit = (e: FormEvent) => {
    e.preventDefault();
    let parsed: unknown;
    try {
      parsed = payload.trim() ? JSON.parse(payload) : {};
    } catch (err) {
      setJsonError(`The payload is not valid JSON: ${(err as Error).message}`);
      return;
    }
    setJsonError(null);
    enqueue.mutate({ type, payload: parsed, priority });
  };

  const selected = types.data?.items.find((t) => t.type === type);
  return (
    <Dialog
      open={open}
      onClose={close}
      title="New background task"
      testId="new-job-dialog"
      footer={
        <>
          <Button onClick={close}>Cancel</Button>
          <Button variant="primary" type="submit" form="new-job-form" disabled={!type || enqueue.isPending}>
            {enqueue.isPending ? 'Enqueuing…' : 'Enqueue'}
          </Button>
        </>
      }
    >
      {types.isError && <ErrorBanner error={types.error} onRetry={() => void types.refetch()} />}
      <form id="new-job-form" onSubmit={submit} className="space-y-3">
        <div>
          <label htmlFor="job-type" className="mb-1 block font-medium">
            Type
          </label>
          <select id="job-type" value={type} onChange={(e) => setType(e.target.value)} className={inputClass}>
            {(types.data?.items ?? []).map((t) => (
              <option key={t.type} value={t.type}>
                {t.type}
              </option>
            ))}
          </select>
          {selected && (
            <p className="mt-1 text-[12px] text-zinc-500 dark:text-zinc-400">
              {selected.description} · runs in {selected.runsIn === 'worker' ? 'a worker thread' : 'the core'}
            </p>
          )}
        </div>
        <div>
          <label htmlFor="job-payload" className="mb-1 block font-medium">
            Payload (JSON)
          </label>
          <textarea
            id="job-payload"
            rows={4}
            spellCheck={false}
            value={payload}
            onChange={(e) => setPayload(e.target.value)}
            className={inputClasses({ multiline: true, mono: true })}
          />
        </div>
        <div className="w-32">
          <label htmlFor="job-priority" className="mb-1 block font-medium">
            Priority
          </label>
          <input
            id="job-priority"
            type="number"
            min={-100}
            max={100}
            value={priority}
            onChange={(e) => setPriority(Number(e.target.value))}
            className={inputClass}
          />
        </div>
      </form>
      {jsonError && <ErrorBanner error={new Error(jsonError)} title="Invalid payload" />}
      {enqueue.isError && <ErrorBanner error={enqueue.error} title="The task was not enqueued" />}
    </Dialog>
  );
}
