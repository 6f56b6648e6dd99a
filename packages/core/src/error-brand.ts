/**
 * `instanceof` for Nightshift's errors that survives two copies of a package: an app that brings its own
 * `@nightshift/core` throws errors whose classes are not the ones the CLI or a service loaded, yet
 * `error instanceof ConfigError` must hold. Each branded class marks its prototype with a `Symbol.for` key (one
 * registry per process, whatever the copy) and answers `instanceof` by that mark, as Temporal's
 * `SymbolBasedInstanceOfError` does.
 */

/** On a branded class's prototype: the class's brand name, e.g. `ConfigError`. */
const BRAND_NAME = Symbol.for('nightshift.error.brand');
/** On a branded class: the stable code its instances carry unless told otherwise. */
const BRAND_CODE = Symbol.for('nightshift.error.code');

const markerOf = (name: string): symbol => Symbol.for(`nightshift.error.is.${name}`);

type ErrorConstructor = abstract new (...args: never[]) => Error;

/**
 * Brands `cls` (call it in the class's `static {}` block): instances of any copy of a class branded `name`
 * pass `instanceof cls`. A subclass that does not brand itself gets the ordinary `instanceof` of its own.
 */
export function brand(cls: ErrorConstructor, name: string, code: string): void {
  const marker = markerOf(name);
  Object.defineProperty(cls.prototype, marker, { value: true });
  Object.defineProperty(cls.prototype, BRAND_NAME, { value: name });
  Object.defineProperty(cls, BRAND_CODE, { value: code });
  Object.defineProperty(cls, Symbol.hasInstance, {
    value(this: ErrorConstructor, value: unknown): boolean {
      if (this !== cls) return Function.prototype[Symbol.hasInstance].call(this, value);
      return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
    },
  });
}

/** The brand name of `cls` itself (not inherited), or `undefined` for a class that is not branded. */
export function brandOf(cls: ErrorConstructor): string | undefined {
  return Object.hasOwn(cls.prototype, BRAND_NAME) ? (cls.prototype as Record<symbol, string>)[BRAND_NAME] : undefined;
}

/** The code `cls` (or the nearest branded class above it) gives its instances. */
export function brandedCode(cls: ErrorConstructor): string | undefined {
  return (cls as unknown as Record<symbol, string | undefined>)[BRAND_CODE];
}

/** The brand names of the classes of `error`, most specific first (`['ConfigError', 'NightshiftError']`). */
export function brandsOf(error: unknown): string[] {
  const names: string[] = [];
  if (typeof error !== 'object' || error === null) return names;
  for (let proto: object | null = Object.getPrototypeOf(error) as object | null; proto !== null; proto = Object.getPrototypeOf(proto) as object | null) {
    if (Object.hasOwn(proto, BRAND_NAME)) names.push((proto as Record<symbol, string>)[BRAND_NAME] as string);
  }
  return names;
}
