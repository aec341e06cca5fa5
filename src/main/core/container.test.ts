import { describe, expect, it } from 'vitest';
import { migrationSetFor } from './container.fixtures';
import { createServices } from './container';
import type { PlatformDeps, ServiceModule, ServiceRank } from './module';

const platform = { logger: 'the logger', db: 'the db' } as unknown as PlatformDeps;

function mod(name: string, rank: ServiceRank, services: string[], create?: ServiceModule['create']): ServiceModule {
  return {
    name,
    title: name,
    rank,
    migrations: migrationSetFor(name),
    platform: ['logger'],
    services,
    create: create ?? ((_p, lookup) => ({ name, deps: services.map((s) => lookup.get(s)) })),
  };
}

describe('service container', () => {
  it('builds dependencies first and hands each service only what it declared', () => {
    const seen: unknown[] = [];
    const built = createServices(
      [
        mod('modelhub', 'core', ['security'], (p, lookup) => {
          seen.push(Object.keys(p));
          return { uses: lookup.get('security') };
        }),
        mod('security', 'foundation', []),
      ],
      platform,
    );
    expect(built.get('modelhub')?.service).toEqual({ uses: { name: 'security', deps: [] } });
    expect(seen).toEqual([['logger']]);
  });

  it('refuses a lookup of a service that was not declared', () => {
    expect(() =>
      createServices(
        [mod('security', 'foundation', []), mod('cost', 'foundation', [], (_p, l) => l.get('security'))],
        platform,
      ),
    ).toThrow("service 'cost' did not declare a dependency on 'security'");
  });

  it('refuses cycles, unknown dependencies, upward calls and duplicate names', () => {
    expect(() => createServices([mod('a', 'core', ['b']), mod('b', 'core', ['a'])], platform)).toThrow(
      'service dependency cycle: a → b → a',
    );
    expect(() => createServices([mod('a', 'core', ['ghost'])], platform)).toThrow(
      "depends on 'ghost', which is not registered",
    );
    expect(() =>
      createServices([mod('security', 'foundation', ['automl']), mod('automl', 'composite', [])], platform),
    ).toThrow(/calls point down/);
    expect(() => createServices([mod('a', 'core', []), mod('a', 'core', [])], platform)).toThrow(
      "two services are named 'a'",
    );
  });
});
