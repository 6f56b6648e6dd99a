/**
 * The Node flags that make a service resolve the @nightshift packages as this CLI does. Run from the
 * repository's TypeScript sources (under the `nightshift:source` export condition, which is how this module
 * itself was found), a service runs from the sources too, even when the environment it is given does not
 * carry the condition in NODE_OPTIONS (a test's, a user's); installed, compiled, it needs no flag.
 */
export function sourceConditionFlags(): string[] {
  return import.meta.url.endsWith('.ts') ? ['--conditions=nightshift:source'] : [];
}
