import { routeTable } from '#gateway/routes';
import { AppError } from '#shared/errors';
import { actorOf, securityEndpoints, type SecurityService } from './contract';

export function securityRoutes(security: SecurityService) {
  return routeTable(securityEndpoints, {
    'keys.create': (input) => security.createKey(input),
    'keys.list': (input) => ({ items: security.listKeys(input) }),
    'keys.revoke': ({ id }) => security.revokeKey(id),
    'auth.whoami': (_input, { principal }) => {
      if (!principal) throw new AppError('UNAUTHENTICATED', 'no credentials');
      return {
        kind: principal.kind,
        keyId: principal.keyId,
        name: principal.name,
        scopes: principal.scopes,
        actor: actorOf(principal),
      };
    },
  });
}
