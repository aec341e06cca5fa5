import type { z } from 'zod';
import { assertUniqueEndpoints } from '../api/endpoint';
import { dataforgeEndpoints, dataforgeEvents } from './dataforge';
import { deployEndpoints, deployEvents } from './deploy';
import { evalkitEndpoints, evalkitEvents } from './evalkit';
import { jobEvents, jobsEndpoints } from './jobs';
import { labelingEndpoints, labelingEvents } from './labeling';
import { modelhubEndpoints, modelhubEvents } from './modelhub';
import { securityEndpoints, securityEvents } from './security';
import { systemEndpoints, systemEvents } from './system';
import { trainosEndpoints, trainosEvents } from './trainos';
import { uploadsEndpoints } from './uploads';

/** Every endpoint of the core. Adding a service means adding its map here; duplicates fail at import. */
export const apiEndpoints = {
  ...systemEndpoints,
  ...jobsEndpoints,
  ...securityEndpoints,
  ...uploadsEndpoints,
  ...dataforgeEndpoints,
  ...labelingEndpoints,
  ...modelhubEndpoints,
  ...trainosEndpoints,
  ...deployEndpoints,
  ...evalkitEndpoints,
} as const;
assertUniqueEndpoints([
  systemEndpoints,
  jobsEndpoints,
  securityEndpoints,
  uploadsEndpoints,
  dataforgeEndpoints,
  labelingEndpoints,
  modelhubEndpoints,
  trainosEndpoints,
  deployEndpoints,
  evalkitEndpoints,
]);

export type ApiEndpoints = typeof apiEndpoints;

/** Every event name with the schema of its data. */
export const eventSchemas = {
  ...jobEvents,
  ...securityEvents,
  ...systemEvents,
  ...dataforgeEvents,
  ...labelingEvents,
  ...modelhubEvents,
  ...trainosEvents,
  ...deployEvents,
  ...evalkitEvents,
} as const;

export type EventName = keyof typeof eventSchemas;
export type EventData<N extends EventName> = z.infer<(typeof eventSchemas)[N]>;

/** Path of the authenticated WebSocket that streams events (`?names=job.*,apikey.created` filters them). */
export const EVENTS_WS_PATH = '/api/v1/events';
