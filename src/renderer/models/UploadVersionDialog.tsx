import { useQueryClient } from '@tanstack/react-query';
import { useRef, useState, type FormEvent } from 'react';
import type { ModelVersion } from '#shared/contracts/modelhub';
import { Dialog } from '../components/Dialog';
import { ErrorBanner } from '../components/ErrorBanner';
import { Button, inputClass, Muted, ProgressBar } from '../components/ui';
import { fileSource, uploadClientOf, uploadFile, UploadAbortedError } from '../datasets/upload';
import { queryKeys, useApi } from '../lib/api';
import { formatBytes } from '../lib/format';

type Stage = 'select' | 'uploading' | 'registering' | 'failed';

/**
 * Uploads a model file (ONNX, GGUF, safetensors or anything else) with the resumable upload client the dataset
 * uploads use, then registers it as the model's next version, with its signature read on the server.
 */
export function UploadVersionDialog({
  name,
  open,
  onClose,
  onCreated,
}: {
  name: string;
  open: boolean;
  onClose: () => void;
  onCreated: (version: ModelVersion) => void;
}) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [description, setDescription] = useState('');
  const [aliases, setAliases] = useState('');
  const [stage, setStage] = useState<Stage>('select');
  const [sent, setSent] = useState(0);
  const [error, setError] = useState<unknown>(null);
  const abort = useRef<AbortController | null>(null);

  const reset = () => {
    setFile(null);
    setDescription('');
    setAliases('');
    setStage('select');
    setSent(0);
    setError(null);
  };
  const close = () => {
    abort.current?.abort();
    reset();
    onClose();
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!file) return;
    const controller = new AbortController();
    abort.current = controller;
    setStage('uploading');
    setError(null);
    try {
      const upload = await uploadFile(fileSource(file.name, file), uploadClientOf(api), {
        signal: controller.signal,
        onProgress: (p) => setSent(p.sent),
      });
      setStage('registering');
      const version = await api.call('models.createVersion', {
        name,
        uploadId: upload.id,
        description: description.trim(),
        aliases: aliases
          .split(',')
          .map((a) => a.trim())
          .filter(Boolean),
      });
      void queryClient.invalidateQueries({ queryKey: queryKeys.model(name) });
      onCreated(version);
      reset();
      onClose();
    } catch (err) {
      if (err instanceof UploadAbortedError) return;
      setError(err);
      setStage('failed');
    }
  };

  const busy = stage === 'uploading' || stage === 'registering';
  return (
    <Dialog open={open} onClose={close} title={`Upload a new version of ${name}`} testId="upload-version-dialog">
      <form onSubmit={(e) => void submit(e)} className="space-y-3">
        <label className="block">
          <span className="mb-1 block font-medium">Model file</span>
          <input
            type="file"
            disabled={busy}
            onChange={(e) => setFile(e.target.files?.[0] ?? null)}
            className="block w-full text-[13px] file:mr-3 file:rounded-md file:border-0 file:bg-zinc-100 file:px-3 file:py-1.5 file:text-[13px] file:font-medium dark:file:bg-zinc-800 dark:file:text-zinc-100"
          />
        </label>
        {file && (
          <Muted className="block text-[12px]">
            {file.name} · {formatBytes(file.size)}. ONNX and GGUF files get their inputs and outputs read.
          </Muted>
        )}
        <label className="block">
          <span className="mb-1 block font-medium">
            Description <Muted className="font-normal">(optional)</Muted>
          </span>
          <input
            className={inputClass}
            value={description}
            disabled={busy}
            onChange={(e) => setDescription(e.target.value)}
          />
        </label>
        <label className="block">
          <span className="mb-1 block font-medium">
            Aliases <Muted className="font-normal">(optional: challenger, candidate)</Muted>
          </span>
          <input className={inputClass} value={aliases} disabled={busy} onChange={(e) => setAliases(e.target.value)} />
        </label>
        {busy && file && (
          <div className="space-y-1">
            <ProgressBar value={file.size === 0 ? 1 : sent / file.size} label="Upload progress" />
            <Muted className="text-[12px]">
              {stage === 'registering'
                ? 'Registering the version…'
                : `${formatBytes(sent)} of ${formatBytes(file.size)} sent`}
            </Muted>
          </div>
        )}
        {error !== null && <ErrorBanner error={error} title="The version was not created" />}
        <div className="flex justify-end gap-2">
          <Button onClick={close}>Cancel</Button>
          <Button variant="primary" type="submit" disabled={!file || busy}>
            {stage === 'failed' ? 'Try again' : 'Upload'}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
