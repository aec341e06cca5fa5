export { modelhubEndpoints, modelhubEvents } from '#shared/contracts/modelhub';
export type { Experiment, Run, RunInfo, RunInput, KeyValue, MetricPoint } from '#shared/contracts/modelhub';
import type { ArtifactStore } from './artifacts';
export { runArtifactRoot } from './artifacts';
import type { LoggedModels } from './logged-models';
import type { RegistryService } from './registry';
import type { TrackingService } from './service';
import type { NewVersion } from './versions';
import type { ModelVersion } from '#shared/contracts/modelhub';

/** ModelHub as other services see it: tracking (experiments, runs, metrics), artifact trees, the model registry. */
export interface ModelhubService {
  readonly tracking: TrackingService;
  readonly artifacts: ArtifactStore;
  readonly registry: RegistryService;
  /** MLflow 3's logged models (served on its REST API). */
  readonly loggedModels: LoggedModels;
  /** A model version from a run's artifacts or an uploaded file, with its format and signature read. */
  registerVersion(input: NewVersion): Promise<ModelVersion>;
  /** The format and signature of the model files an artifact URI names (others: `other`, no signature). */
  describeSource(source: string): Promise<{ format: string; signature: unknown }>;
}
