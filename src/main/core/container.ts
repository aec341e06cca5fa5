import type { PlatformDeps, ServiceModule, ServiceRank } from './module';

const RANK: Record<ServiceRank, number> = { foundation: 1, core: 2, composite: 3 };

export interface ServiceInstance {
  module: ServiceModule<unknown, keyof PlatformDeps>;
  service: unknown;
}

/**
 * Builds services in dependency order. Refuses unknown dependencies, dependencies on a higher rank, cycles,
 * duplicate names, and lookups of services a module did not declare.
 */
export function createServices(
  modules: readonly ServiceModule<unknown, keyof PlatformDeps>[],
  platform: PlatformDeps,
): Map<string, ServiceInstance> {
  const byName = new Map<string, ServiceModule<unknown, keyof PlatformDeps>>();
  for (const m of modules) {
    if (byName.has(m.name)) throw new Error(`two services are named '${m.name}'`);
    byName.set(m.name, m);
  }
  for (const m of modules) {
    for (const dep of m.services) {
      const target = byName.get(dep);
      if (!target) throw new Error(`service '${m.name}' depends on '${dep}', which is not registered`);
      if (RANK[target.rank] > RANK[m.rank]) {
        throw new Error(
          `service '${m.name}' (${m.rank}) may not depend on '${dep}' (${target.rank}): calls point down`,
        );
      }
    }
  }
  const built = new Map<string, ServiceInstance>();
  const visiting: string[] = [];
  const build = (name: string): unknown => {
    const done = built.get(name);
    if (done) return done.service;
    if (visiting.includes(name)) throw new Error(`service dependency cycle: ${[...visiting, name].join(' → ')}`);
    const m = byName.get(name) as ServiceModule<unknown, keyof PlatformDeps>;
    visiting.push(name);
    const deps = new Map(m.services.map((d) => [d, build(d)]));
    visiting.pop();
    const picked = Object.fromEntries(m.platform.map((p) => [p, platform[p]])) as Pick<
      PlatformDeps,
      keyof PlatformDeps
    >;
    const service = m.create(picked, {
      get<T>(dep: string): T {
        if (!deps.has(dep)) throw new Error(`service '${m.name}' did not declare a dependency on '${dep}'`);
        return deps.get(dep) as T;
      },
    });
    built.set(name, { module: m, service });
    return service;
  };
  for (const m of modules) build(m.name);
  return built;
}
