import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import type { Deployment, DeploymentInput } from '#shared/contracts/deploy';
import type { ModelVersion } from '#shared/contracts/modelhub';
import { Dialog } from '../components/Dialog';
import { ErrorBanner } from '../components/ErrorBanner';
import { Button, inputClass, Muted, Spinner } from '../components/ui';
import { queryKeys, useApi } from '../lib/api';
import { useToasts } from '../lib/toasts';
import { Field, NumberInput } from '../trainos/form-fields';
import {
  deploymentInputOf,
  emptyDraft,
  formErrorsOf,
  isDeployable,
  isTensorRuntime,
  versionSelectorOf,
  type DeployDraft,
} from './deploy-form';
import { deployKeys } from './queries';

export interface DeployDialogProps {
  open: boolean;
  onClose: () => void;
  /** Opens with this model (and version) chosen: the "Deploy" button of a model version's page. */
  model?: string;
  version?: number;
  onDeployed?: (deployment: Deployment) => void;
}

/**
 * Deploys a registered model version: the model, then its version or an alias, a name, and how it is served
 * (context, parallel requests, idle unload, device, …). A refused request shows each error under the field it
 * names. Creating waits for the model to load, so the dialog says so while it does.
 */
export function DeployDialog({ open, ...props }: DeployDialogProps) {
  return open ? <DeployForm {...props} /> : null;
}

function DeployForm({ onClose, model, version, onDeployed }: Omit<DeployDialogProps, 'open'>) {
  const api = useApi();
  const queryClient = useQueryClient();
  const push = useToasts((s) => s.push);
  const [draft, setDraft] = useState<DeployDraft>(() =>
    emptyDraft(model ?? '', version === undefined ? '' : String(version)),
  );
  // Fields changed since the last refusal: their errors are stale, so they are no longer shown.
  const [edited, setEdited] = useState<ReadonlySet<keyof DeployDraft>>(new Set());
  const set = <K extends keyof DeployDraft>(key: K, value: DeployDraft[K]) => {
    setDraft((d) => ({ ...d, [key]: value }));
    setEdited((e) => new Set(e).add(key));
  };

  const models = useQuery({
    queryKey: [...queryKeys.models, 'list', 'for-deploy'],
    queryFn: () => api.call('models.list', { limit: 1000 }),
  });
  const versions = useQuery({
    queryKey: [...queryKeys.model(draft.model), 'versions'],
    queryFn: () => api.call('models.versions', { name: draft.model, limit: 10_000 }),
    enabled: draft.model !== '',
  });
  const list = [...(versions.data?.items ?? [])].sort((a, b) => b.version - a.version);
  const chosen = chosenVersion(list, draft.version);
  // A built-in trainer's ONNX version carries the same model as TF.js (`tfjs/` beside its model.onnx): it can be
  // served by either runtime.
  const exportDir = chosen?.format === 'onnx' && chosen.runId !== null ? tfjsExportDirOf(chosen.source) : null;
  const tfjsExport = useQuery({
    queryKey: [...queryKeys.model(draft.model), 'tfjs-export', chosen?.version],
    queryFn: async () => {
      const { items } = await api.call('runs.artifacts', { run: chosen?.runId as string, path: exportDir as string });
      return items.some((f) => !f.isDir && f.path.split('/').pop() === 'model.json');
    },
    enabled: exportDir !== null,
  });
  const [runtime, setRuntime] = useState<'onnx' | 'tfjs'>('onnx');
  const servedAsTfjs = exportDir !== null && tfjsExport.data === true && runtime === 'tfjs';
  const format = servedAsTfjs ? 'tfjs' : chosen?.format;

  const create = useMutation({
    mutationFn: (input: DeploymentInput) => api.call('deployments.create', input),
    onSuccess: (deployment) => {
      void queryClient.invalidateQueries({ queryKey: deployKeys.list });
      push(
        deployment.state === 'failed'
          ? {
              tone: 'error',
              title: `${deployment.name} was created but cannot be served`,
              message: deployment.reason ?? '',
            }
          : { tone: 'success', title: `Deployed ${deployment.name}` },
      );
      onClose();
      onDeployed?.(deployment);
    },
  });
  const refused = formErrorsOf(create.error);
  const errors = {
    ...refused,
    fields: Object.fromEntries(Object.entries(refused.fields).filter(([f]) => !edited.has(f as keyof DeployDraft))),
  } as typeof refused;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (draft.model === '') return;
    setEdited(new Set());
    create.mutate({ ...deploymentInputOf(draft, format), ...(servedAsTfjs ? { runtime: 'tfjs' as const } : {}) });
  };
  const gguf = !chosen || chosen.format === 'gguf';
  // ONNX and TF.js: replicas and batching. TF.js runs on the CPU only, with TF.js's own threads.
  const tensor = isTensorRuntime(format);
  const tfjs = format === 'tfjs';
  const deployable = !chosen || isDeployable(chosen.format);

  return (
    <Dialog
      open
      onClose={onClose}
      title="Deploy a model"
      testId="deploy-dialog"
      size="lg"
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button
            variant="primary"
            type="submit"
            form="deploy-form"
            disabled={create.isPending || draft.model === '' || !deployable}
          >
            {create.isPending ? (
              <>
                <Spinner small inverted /> Deploying…
              </>
            ) : (
              'Deploy'
            )}
          </Button>
        </>
      }
    >
      <form id="deploy-form" onSubmit={submit} className="space-y-4" noValidate>
        <div className="grid grid-cols-1 gap-3 sm:grid-cols-2">
          <Field id="dp-model" label="Model" required error={errors.fields.model}>
            <select
              id="dp-model"
              value={draft.model}
              onChange={(e) => setDraft((d) => ({ ...d, model: e.target.value, version: '' }))}
              className={inputClass}
              disabled={models.isPending}
            >
              <option value="">{models.isPending ? 'Loading models…' : 'Choose a registered model'}</option>
              {/* A model given by the page that opened the dialog may be past the first 1,000. */}
              {draft.model !== '' && !models.data?.items.some((m) => m.name === draft.model) && (
                <option value={draft.model}>{draft.model}</option>
              )}
              {models.data?.items.map((m) => (
                <option key={m.name} value={m.name}>
                  {m.name}
                </option>
              ))}
            </select>
          </Field>
          <Field
            id="dp-version"
            label="Version or alias"
            error={errors.fields.version}
            hint={
              chosen ? (
                <>
                  {chosen.format.toUpperCase()} file
                  {!deployable && ' — only GGUF, ONNX and TF.js models can be deployed'}
                </>
              ) : undefined
            }
          >
            <select
              id="dp-version"
              value={draft.version}
              onChange={(e) => set('version', e.target.value)}
              className={inputClass}
              disabled={draft.model === '' || versions.isPending}
            >
              <option value="">{list[0] ? `Newest (v${list[0].version})` : 'Newest'}</option>
              {aliasesOf(list).map(({ alias, version: v }) => (
                <option key={`@${alias}`} value={`@${alias}`}>
                  @{alias} (v{v})
                </option>
              ))}
              {list.map((v) => (
                <option key={v.version} value={String(v.version)}>
                  v{v.version} · {v.format}
                  {v.description ? ` · ${v.description.slice(0, 50)}` : ''}
                </option>
              ))}
            </select>
          </Field>
        </div>
        {exportDir !== null && tfjsExport.data === true && (
          <Field
            id="dp-runtime"
            label="Runtime"
            // A refusal naming runtime shows in the banner below: the draft has no runtime of its own.
            error={undefined}
            hint="This version also holds its model as TF.js, which answers the same requests on TF.js's CPU backend."
          >
            <select
              id="dp-runtime"
              value={runtime}
              onChange={(e) => setRuntime(e.target.value === 'tfjs' ? 'tfjs' : 'onnx')}
              className={inputClass}
            >
              <option value="onnx">ONNX (onnxruntime)</option>
              <option value="tfjs">TF.js</option>
            </select>
          </Field>
        )}
        {versions.isError && <ErrorBanner error={versions.error} title="Could not list the model's versions" />}
        {models.isError && <ErrorBanner error={models.error} title="Could not list the models" />}

        <Field
          id="dp-name"
          label="Deployment name"
          error={errors.fields.name}
          hint="The model id in API calls; letters, digits, “.”, “_” and “-”."
        >
          <input
            id="dp-name"
            value={draft.name}
            onChange={(e) => set('name', e.target.value)}
            placeholder={draft.model || 'my-model'}
            className={`${inputClass} font-mono`}
            autoComplete="off"
            spellCheck={false}
          />
        </Field>

        <div className="grid grid-cols-1 gap-3 sm:grid-cols-3">
          {gguf && (
            <Field id="dp-context" label="Context size" error={errors.fields.contextSize} hint="Tokens per request.">
              <NumberInput
                id="dp-context"
                value={draft.contextSize}
                onChange={(v) => set('contextSize', v)}
                placeholder="model's (≤ 4096)"
              />
            </Field>
          )}
          {gguf && (
            <Field id="dp-parallel" label="Parallel requests" error={errors.fields.parallel} hint="Served at once.">
              <NumberInput id="dp-parallel" value={draft.parallel} onChange={(v) => set('parallel', v)} />
            </Field>
          )}
          {tensor && (
            <>
              <Field
                id="dp-min-replicas"
                label="Min replicas"
                error={errors.fields.minReplicas}
                hint="0: loaded on its first request."
              >
                <NumberInput id="dp-min-replicas" value={draft.minReplicas} onChange={(v) => set('minReplicas', v)} />
              </Field>
              <Field
                id="dp-max-replicas"
                label="Max replicas"
                error={errors.fields.maxReplicas}
                hint="Scaled up on queue depth."
              >
                <NumberInput id="dp-max-replicas" value={draft.maxReplicas} onChange={(v) => set('maxReplicas', v)} />
              </Field>
            </>
          )}
          <Field
            id="dp-idle"
            label="Idle unload (s)"
            error={errors.fields.idleUnloadSeconds}
            hint="Unloaded after this long without requests."
          >
            <NumberInput
              id="dp-idle"
              value={draft.idleUnloadSeconds}
              onChange={(v) => set('idleUnloadSeconds', v)}
              placeholder="never"
            />
          </Field>
          {!tensor && (
            <Field id="dp-load" label="Load" error={errors.fields.minReplicas}>
              <select
                id="dp-load"
                value={draft.minReplicas === '0' ? '0' : '1'}
                onChange={(e) => set('minReplicas', e.target.value)}
                className={inputClass}
              >
                <option value="1">Now and at app start</option>
                <option value="0">On first request</option>
              </select>
            </Field>
          )}
          <Field id="dp-device" label="Device" error={errors.fields.device} hint="Auto: the GPU when there is one.">
            <select
              id="dp-device"
              value={draft.device}
              onChange={(e) => set('device', e.target.value as DeployDraft['device'])}
              className={inputClass}
            >
              <option value="auto">Auto</option>
              <option value="cpu">CPU</option>
              {!tfjs && <option value="gpu">GPU</option>}
            </select>
          </Field>
          {!tfjs && (
            <Field id="dp-threads" label="CPU threads" error={errors.fields.threads}>
              <NumberInput
                id="dp-threads"
                value={draft.threads}
                onChange={(v) => set('threads', v)}
                placeholder={tensor ? '1 per replica' : 'all cores'}
              />
            </Field>
          )}
        </div>

        <details
          className="rounded-md border border-zinc-200 dark:border-zinc-800"
          open={advancedHasError(errors.fields)}
        >
          <summary className="cursor-pointer px-3 py-2 font-medium text-zinc-700 select-none dark:text-zinc-300">
            More settings
          </summary>
          <div className="grid grid-cols-1 gap-3 border-t border-zinc-200 p-3 sm:grid-cols-3 dark:border-zinc-800">
            <Field
              id="dp-queue"
              label="Max queue"
              error={errors.fields.maxQueue}
              hint="Requests waiting for a slot; more get a 429."
            >
              <NumberInput id="dp-queue" value={draft.maxQueue} onChange={(v) => set('maxQueue', v)} />
            </Field>
            {gguf && (
              <Field
                id="dp-chat-format"
                label="Chat prompts"
                error={errors.fields.chatFormat}
                hint="The file's chat template, or the messages joined as they are."
              >
                <select
                  id="dp-chat-format"
                  value={draft.chatFormat}
                  onChange={(e) => set('chatFormat', e.target.value === 'raw' ? 'raw' : 'auto')}
                  className={inputClass}
                >
                  <option value="auto">Chat template</option>
                  <option value="raw">Raw</option>
                </select>
              </Field>
            )}
            {tensor && (
              <>
                <Field
                  id="dp-batch"
                  label="Max batch size"
                  error={errors.fields.maxBatchSize}
                  hint="Rows of concurrent requests run together; 0: off."
                >
                  <NumberInput id="dp-batch" value={draft.maxBatchSize} onChange={(v) => set('maxBatchSize', v)} />
                </Field>
                <Field
                  id="dp-batch-delay"
                  label="Max batch delay (ms)"
                  error={errors.fields.maxQueueDelayMs}
                  hint="The longest a request waits for others."
                >
                  <NumberInput
                    id="dp-batch-delay"
                    value={draft.maxQueueDelayMs}
                    onChange={(v) => set('maxQueueDelayMs', v)}
                    integer={false}
                  />
                </Field>
              </>
            )}
            <Field
              id="dp-log"
              label="Requests logged (%)"
              error={errors.fields.logPercent}
              hint="Inputs and outputs, for the request log and EvalKit."
            >
              <NumberInput
                id="dp-log"
                value={draft.logPercent}
                onChange={(v) => set('logPercent', v)}
                integer={false}
              />
            </Field>
          </div>
        </details>

        {errors.general.length > 0 && <ErrorBanner error={create.error} title="The model was not deployed" />}
        {create.isPending && draft.minReplicas !== '0' && (
          <p className="flex items-center gap-2 text-zinc-500 dark:text-zinc-400" role="status">
            <Spinner /> Loading the model; this takes a few seconds for a small one.
          </p>
        )}
        {!create.isPending && versionSelectorOf(draft.version) === undefined && list.length > 1 && (
          <Muted className="block text-[12px]">
            “Newest” is fixed at deploy time: a later version is served only after an update or a new deployment.
          </Muted>
        )}
      </form>
    </Dialog>
  );
}

/** The version a selector picks from a model's versions (newest first): '' the newest, `3`, or `@alias`. */
function chosenVersion(newestFirst: readonly ModelVersion[], selector: string): ModelVersion | undefined {
  const s = versionSelectorOf(selector);
  if (s === undefined) return newestFirst[0];
  if (typeof s === 'number') return newestFirst.find((v) => v.version === s);
  const alias = s.slice(1);
  return newestFirst.find((v) => v.aliases.includes(alias));
}

/** The TF.js export's folder in a run-logged version's artifacts: `tfjs` inside the version's folder. */
function tfjsExportDirOf(source: string): string {
  const dir = /\/artifacts\/(.+?)\/*$/.exec(source)?.[1];
  return dir ? `${dir}/tfjs` : 'tfjs';
}

function aliasesOf(versions: readonly ModelVersion[]): { alias: string; version: number }[] {
  return versions
    .flatMap((v) => v.aliases.map((alias) => ({ alias, version: v.version })))
    .sort((a, b) => a.alias.localeCompare(b.alias));
}

function advancedHasError(fields: Partial<Record<keyof DeployDraft, string>>): boolean {
  return Boolean(
    fields.maxQueue ?? fields.chatFormat ?? fields.logPercent ?? fields.maxBatchSize ?? fields.maxQueueDelayMs,
  );
}
