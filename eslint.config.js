import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Layering (see services/README.md): packages never import a service, except the composition roots that start
// services (the CLI and the testing kit); a service never imports another service; no shipped src/ imports the
// repo's internal test helpers. Flat config replaces a rule's options per matching block rather than merging
// them, so each block below lists every pattern that holds for its files.
const SERVICES = ['worker', 'beat', 'alerter', 'health-api'];
const COMPOSITION_ROOTS = ['packages/cli/**', 'packages/testing/**'];

const bySrcPath = {
  group: ['../../*/src/*', '../../../packages/*', '@nightshift/*/src/*'],
  message: 'Import another package by its name, not its src/.',
};
const services = (names, message) => ({ group: names.flatMap((name) => [`@nightshift/${name}`, `@nightshift/${name}/*`]), message });
const anyService = services(SERVICES, 'A package never imports a service: only the composition roots (packages/cli, packages/testing) start services. Move what is shared into a package.');
const testHelpers = {
  group: ['@nightshift/test-helpers', '@nightshift/test-helpers/*'],
  message: '@nightshift/test-helpers is the repo\'s own test code: shipped src/ may not import it (the testing kit uses @nightshift/test-servers).',
};
const restrict = (...patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/.turbo/**', '**/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly',
        setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', Buffer: 'readonly',
        URL: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', structuredClone: 'readonly',
        fetch: 'readonly', queueMicrotask: 'readonly', performance: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      ...restrict(bySrcPath),
    },
  },
  { files: ['packages/*/test/**'], ignores: COMPOSITION_ROOTS, rules: restrict(bySrcPath, anyService) },
  { files: ['packages/*/src/**'], ignores: COMPOSITION_ROOTS, rules: restrict(bySrcPath, anyService, testHelpers) },
  { files: COMPOSITION_ROOTS.map((root) => root.replace('**', 'src/**')), rules: restrict(bySrcPath, testHelpers) },
  ...SERVICES.map((service) => ({
    files: [`services/${service}/src/**`],
    rules: restrict(bySrcPath, testHelpers, services(SERVICES.filter((other) => other !== service), 'A service never imports another service: what two services share belongs in a package.')),
  })),
);
