import { dataforgeModule } from '#services/dataforge/index';
import { deployModule } from '#services/deploy/index';
import { evalkitModule } from '#services/evalkit/index';
import { modelhubModule } from '#services/modelhub/index';
import { securityModule } from '#services/security/index';
import { trainosModule } from '#services/trainos/index';
import type { PlatformDeps, ServiceModule } from './module';

/** The services this core runs, in no particular order (the container sorts them by dependency). */
export const serviceModules: readonly ServiceModule<unknown, keyof PlatformDeps>[] = [
  securityModule as ServiceModule<unknown, keyof PlatformDeps>,
  dataforgeModule as ServiceModule<unknown, keyof PlatformDeps>,
  modelhubModule as ServiceModule<unknown, keyof PlatformDeps>,
  trainosModule as ServiceModule<unknown, keyof PlatformDeps>,
  deployModule as ServiceModule<unknown, keyof PlatformDeps>,
  evalkitModule as ServiceModule<unknown, keyof PlatformDeps>,
];
