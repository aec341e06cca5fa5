import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { queryKeys } from '../lib/api';
import { useEvents } from '../lib/events';

/**
 * Labeling's query keys. Everything sits under `['labeling', dataset]`, so a live labeling event refreshes a
 * dataset's projects, progress, review queue and agreement at once. The annotator's current task is not a query:
 * the workspace holds it, so nobody else's answer can swap it out mid-task.
 */
export const labelingKeys = {
  all: ['labeling'] as const,
  dataset: (dataset: string) => ['labeling', dataset] as const,
  projects: (dataset: string) => ['labeling', dataset, 'projects'] as const,
  project: (dataset: string, project: string) => ['labeling', dataset, 'project', project] as const,
  tasks: (dataset: string, project: string, query: unknown) => ['labeling', dataset, 'tasks', project, query] as const,
  task: (dataset: string, project: string, task: string) => ['labeling', dataset, 'task', project, task] as const,
  agreement: (dataset: string, project: string) => ['labeling', dataset, 'agreement', project] as const,
};

/**
 * Refreshes labeling queries when a labeling event arrives over the live stream (someone else's answer, a review,
 * an export); an export also makes a dataset version, which the dataset lists show.
 */
export function useLabelingLiveRefresh(): void {
  const queryClient = useQueryClient();
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const unsubscribe = useEvents.subscribe((state, prev) => {
      const seen = new Set(prev.events.map((e) => e.id));
      const fresh = state.events.filter((e) => !seen.has(e.id) && e.name.startsWith('labeling.'));
      if (fresh.length === 0) return;
      const exported = fresh.some((e) => e.name === 'labeling.exported');
      clearTimeout(timer);
      timer = setTimeout(() => {
        void queryClient.invalidateQueries({ queryKey: labelingKeys.all });
        if (exported) void queryClient.invalidateQueries({ queryKey: queryKeys.datasetsList });
      }, 150);
    });
    return () => {
      clearTimeout(timer);
      unsubscribe();
    };
  }, [queryClient]);
}
