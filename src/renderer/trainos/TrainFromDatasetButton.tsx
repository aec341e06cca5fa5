import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { Button } from '../components/ui';
import { useApi } from '../lib/api';
import { NewTrainingJobDialog } from './NewTrainingJobDialog';
import { TEMPLATES_QUERY_KEY } from './template-job';
import { trainingJobPath } from './training-jobs';

/**
 * "Train a model…" on a dataset version: the new training job form on a template, with this version chosen; the
 * job's page once it is submitted. Nothing when no template reads a dataset (or TrainOS does not answer).
 */
export function TrainFromDatasetButton({ dataset, version }: { dataset: string; version: number }) {
  const api = useApi();
  const navigate = useNavigate();
  const [open, setOpen] = useState(false);
  const templates = useQuery({
    queryKey: TEMPLATES_QUERY_KEY,
    queryFn: () => api.call('trainingTemplates.list'),
    staleTime: 60_000,
  });
  if (!templates.data?.templates.some((t) => t.datasets.length > 0)) return null;
  return (
    <>
      <Button onClick={() => setOpen(true)}>Train a model…</Button>
      <NewTrainingJobDialog
        open={open}
        onClose={() => setOpen(false)}
        dataset={{ dataset, version: String(version) }}
        onSubmitted={(job) => void navigate(trainingJobPath(job.id))}
      />
    </>
  );
}
