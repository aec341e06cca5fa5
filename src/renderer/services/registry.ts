import type { ComponentType } from 'react';
import { GpuIcon, KeyIcon, QueueIcon, type IconProps } from '../components/icons';
import { DatasetsPage } from '../datasets/DatasetsPage';
import { DeploymentsPage } from '../deploy/DeploymentsPage';
import { DeployIcon } from '../deploy/icons';
import { DatasetsIcon } from '../datasets/icons';
import { EvaluationsIcon, EvaluationsPage } from '../evalkit/EvaluationsPage';
import { LlmEvalsIcon, LlmEvalsPage } from '../evalkit/LlmEvalsPage';
import { AbTestsPage } from '../evalkit/AbTestsPage';
import { DriftPage } from '../evalkit/DriftPage';
import { DriftIcon, SplitIcon } from '../evalkit/icons';
import { ExperimentsPage } from '../experiments/ExperimentsPage';
import { ExperimentsIcon } from '../experiments/icons';
import { ModelsIcon } from '../models/icons';
import { ModelsPage } from '../models/ModelsPage';
import { GpusPage } from '../trainos/GpusPage';
import { SweepsIcon, SweepsPage } from '../trainos/SweepsPage';
import { TrainingJobsPage } from '../trainos/TrainingJobsPage';

/**
 * The renderer's pages for platform services, keyed by the service name that `system.services` reports. The
 * sidebar lists a running service only when it has an entry here, so no service gets an empty page.
 *
 * To add a service page: write `src/renderer/<service>/<Service>Page.tsx` and add one entry here with `element`;
 * it is mounted at `/<service>` (one path segment: the built UI loads its assets by relative URL).
 * An entry without `element` links to a part of an existing page instead. A service with several pages lists
 * them in order.
 */
export interface ServicePage {
  /** The sidebar label. */
  label: string;
  icon: ComponentType<IconProps>;
  /** Where the sidebar entry leads: `/<service>` for a page of its own. */
  to: string;
  /** The page, when the service has one of its own. */
  element?: ComponentType;
}

export const servicePages: Readonly<Partial<Record<string, ServicePage | readonly ServicePage[]>>> = {
  // Security's user-facing part today is API keys, managed in Settings.
  security: { label: 'API keys', icon: KeyIcon, to: '/settings#api-keys' },
  // One dataset's page, /datasets/:name, is registered in app/router.tsx.
  dataforge: { label: 'Datasets', icon: DatasetsIcon, to: '/datasets', element: DatasetsPage },
  // Runs, run, compare and model pages below these are registered in app/router.tsx.
  modelhub: [
    { label: 'Experiments', icon: ExperimentsIcon, to: '/experiments', element: ExperimentsPage },
    { label: 'Models', icon: ModelsIcon, to: '/models', element: ModelsPage },
  ],
  // The platform's task queue is the main navigation's Background tasks page; training jobs and the GPU board are
  // TrainOS's.
  // One training job's page is /training/jobs?job=<id>, on the same route.
  trainos: [
    { label: 'Training jobs', icon: QueueIcon, to: '/training/jobs', element: TrainingJobsPage },
    { label: 'Sweeps', icon: SweepsIcon, to: '/training/sweeps', element: SweepsPage },
    { label: 'GPUs', icon: GpuIcon, to: '/gpus', element: GpusPage },
  ],
  // One deployment's page is /deployments?deployment=<name>, on the same route.
  deploy: { label: 'Deployments', icon: DeployIcon, to: '/deployments', element: DeploymentsPage },
  evalkit: [
    // One evaluation is /evaluations?evaluation=<id>; ?model=<name>&version=<n> opens the form for that version.
    { label: 'Evaluations', icon: EvaluationsIcon, to: '/evaluations', element: EvaluationsPage },
    { label: 'Drift', icon: DriftIcon, to: '/drift', element: DriftPage },
    { label: 'A/B tests', icon: SplitIcon, to: '/abtests', element: AbTestsPage },
    // One suite is /llm-evals?suite=<name>, one run /llm-evals?run=<id>, on the same route.
    { label: 'LLM evals', icon: LlmEvalsIcon, to: '/llm-evals', element: LlmEvalsPage },
  ],
};

/** The pages of a service, in sidebar order (none when it has no entry). */
export function pagesOf(service: string): readonly ServicePage[] {
  const entry = servicePages[service];
  if (!entry) return [];
  return Array.isArray(entry) ? entry : [entry as ServicePage];
}

/** The routes of services that have a page of their own. */
export function servicePageRoutes(): { path: string; Component: ComponentType }[] {
  return Object.keys(servicePages)
    .flatMap(pagesOf)
    .flatMap((page) => (page.element ? [{ path: page.to.replace(/^\//, ''), Component: page.element }] : []));
}
