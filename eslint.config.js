// Lint, including the import boundaries of ARCHITECTURE.md §4. A forbidden import is an error, so CI fails on it.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// Patterns are regular expressions: gitignore-style groups would read a leading '#' as a comment.
const NODE_BUILTINS =
  '^(node:.*|fs|fs/.*|path|os|crypto|child_process|worker_threads|http|https|net|stream|stream/.*|url|util|events|zlib|timers|timers/.*|module|process|buffer)$';
const MAIN_AREAS = '^#(platform|gateway|services|core)/';
const ACROSS_AREAS = { regex: '^\\.\\./\\.\\./', message: 'no ../../ imports across areas: use a #subpath import' };

/** Service ranks (ARCHITECTURE.md §4): a service may import contracts of its own rank or below, nothing else. */
const SERVICE_RANKS = {
  foundation: ['security', 'cost', 'dataforge'],
  core: ['modelhub', 'trainos', 'deploy', 'evalkit', 'promptstudio'],
  composite: ['automl', 'marketplace', 'collab', 'edgesync'],
};
const RANK_ORDER = ['foundation', 'core', 'composite'];

function restrict(...patterns) {
  return { 'no-restricted-imports': ['error', { patterns }] };
}

function serviceRestrictions(svc, rank, forTests) {
  const higher = RANK_ORDER.slice(RANK_ORDER.indexOf(rank) + 1).flatMap((r) => SERVICE_RANKS[r]);
  return restrict(
    ACROSS_AREAS,
    {
      regex: `^#services/(${svc}/.*|[^/]+/(?!contract$).*)$`,
      message: 'another service is reached only through its contract.ts; your own files by relative import',
    },
    ...(higher.length
      ? [
          {
            regex: `^#services/(${higher.join('|')})/`,
            message: `a ${rank} service may not call a higher-ranked one (calls point down; use an event)`,
          },
        ]
      : []),
    forTests
      ? { regex: '^#core/(?!(module|testing)$)', message: 'service tests see the core through #core/testing only' }
      : { regex: '^#core/(?!module$)', message: 'services see the core only through #core/module' },
    { regex: '^electron$', message: 'the core is plain Node: no electron outside src/main/electron' },
  );
}

const serviceRules = Object.entries(SERVICE_RANKS).flatMap(([rank, services]) =>
  services.flatMap((svc) => [
    {
      files: [`src/main/services/${svc}/**/*.ts`],
      ignores: ['**/*.test.ts'],
      rules: serviceRestrictions(svc, rank, false),
    },
    { files: [`src/main/services/${svc}/**/*.test.ts`], rules: serviceRestrictions(svc, rank, true) },
  ]),
);

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'out/',
      'dist/',
      'coverage/',
      'docs/openapi.json',
      'sdk/python/src/',
      'sdk/python/tests/',
      '**/*.d.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-console': 'off',
    },
  },
  {
    files: ['src/shared/**/*.ts'],
    rules: restrict(
      { regex: NODE_BUILTINS, message: 'src/shared runs in the browser too: no Node built-ins' },
      { regex: '^(electron|react|react-dom)$', message: 'src/shared depends on no runtime' },
      { regex: MAIN_AREAS, message: 'src/shared imports nothing of ours' },
      { regex: '/(main|renderer|workers|preload)/', message: 'src/shared imports nothing of ours' },
    ),
  },
  {
    files: ['src/renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    rules: restrict(
      { regex: NODE_BUILTINS, message: 'the renderer never imports Node built-ins' },
      { regex: '^electron$', message: 'the renderer never imports electron' },
      { regex: MAIN_AREAS, message: 'the renderer talks to the core over the REST API only' },
      { regex: '/(main|workers)/', message: 'the renderer talks to the core over the REST API only' },
      ACROSS_AREAS,
    ),
  },
  {
    files: ['src/workers/**/*.ts'],
    rules: restrict(
      {
        regex: '^#(services|gateway|core)/|/services/',
        message: 'workers import shared and platform helpers, never services',
      },
      { regex: '^electron$', message: 'workers are plain Node' },
      ACROSS_AREAS,
    ),
  },
  {
    files: ['src/main/platform/**/*.ts'],
    rules: restrict(
      { regex: '^(#(services|gateway|core)/.*|electron)$', message: 'the platform layer sits below everything else' },
      ACROSS_AREAS,
    ),
  },
  {
    files: ['src/main/gateway/**/*.ts', 'src/main/core/**/*.ts', 'src/main/cli/**/*.ts'],
    rules: restrict(
      { regex: '^electron$', message: 'the core is plain Node: no electron outside src/main/electron' },
      {
        regex: '^#services/[^/]+/(?!(contract|index)$)',
        message: 'use a service through its contract (or its index to register it)',
      },
      ACROSS_AREAS,
    ),
  },
  ...serviceRules,
  {
    files: ['src/preload/**/*.ts'],
    rules: restrict({ regex: `${MAIN_AREAS}|/(main|renderer)/`, message: 'the preload script is a thin bridge' }),
  },
);
