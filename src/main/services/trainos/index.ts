import { defineService } from '#core/module';
import type { TrainosService } from './contract';
import { trainosRoutes } from './routes';
import { LocalTrainosService } from './service';
import { VramArbiter } from './vram';

export type { TrainosService } from './contract';

export const trainosModule = defineService<TrainosService, 'sysinfo' | 'bus'>({
  name: 'trainos',
  title: 'Training',
  rank: 'core',
  // The VRAM arbiter keeps its reservations in memory (nothing is loaded after a restart): no tables yet.
  migrations: { owner: 'trainos', tablePrefix: 'trainos', migrations: [] },
  platform: ['sysinfo', 'bus'],
  services: [],
  create: ({ sysinfo, bus }) =>
    new LocalTrainosService(sysinfo, new VramArbiter({ readGpus: () => sysinfo.gpus(), events: bus })),
  // Waiting reservations are refused rather than left hanging when the app closes.
  stop: (service) => service.vram.close(),
  routes: trainosRoutes,
});
