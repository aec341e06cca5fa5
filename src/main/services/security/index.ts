import { localTokenPath } from '#platform/config';
import { defineService } from '#core/module';
import type { SecurityService } from './contract';
import { securityRoutes } from './routes';
import { securityMigrations } from './schema';
import { LocalSecurityService } from './service';
import { SqliteApiKeyStore } from './store.sqlite';

export type { SecurityService, Principal } from './contract';

export const securityModule = defineService<SecurityService, 'db' | 'bus' | 'logger' | 'config'>({
  name: 'security',
  title: 'Security',
  rank: 'foundation',
  migrations: securityMigrations,
  platform: ['db', 'bus', 'logger', 'config'],
  services: [],
  create: ({ db, bus, logger, config }) =>
    new LocalSecurityService(
      new SqliteApiKeyStore(db),
      bus,
      logger.child({ service: 'security' }),
      localTokenPath(config.dataDir),
    ),
  routes: securityRoutes,
});
