import { ConfigError } from '@nightshift/core';

/** Where the factory's tasks keep their data and which HTTP endpoints they talk to. */
export interface FactorySettings {
  /** PostgreSQL schema of the factory's tables (`FACTORY_SCHEMA`). Default: `'factory'`. */
  readonly schema: string;
  /** Prefix of every Redis key the factory writes (`FACTORY_REDIS_PREFIX`). Default: `'factory'`. */
  readonly redisPrefix: string;
  /**
   * Base URL of the fake CRM and of the default health-check endpoints (`FACTORY_API_URL`).
   * Default: `undefined`, meaning the demo API that this process starts on first use.
   */
  readonly apiUrl: string | undefined;
  /**
   * What `apis.checkHealth` checks (`FACTORY_HEALTH_ENDPOINTS`: `name=url` pairs, comma-separated).
   * Default: `/healthy`, `/slow` and `/broken` of the API above.
   */
  readonly healthEndpoints: readonly HealthEndpoint[] | undefined;
}

export interface HealthEndpoint {
  readonly name: string;
  /** An absolute URL, or a path (starting with `/`) resolved against `apiUrl` or the demo API. */
  readonly url: string;
}

export const DEFAULT_HEALTH_ENDPOINTS: readonly HealthEndpoint[] = Object.freeze([
  { name: 'healthy', url: '/healthy' },
  { name: 'slow', url: '/slow' },
  { name: 'broken', url: '/broken' },
]);

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const REDIS_PREFIX = /^[\w.:-]{1,100}$/;

/** Validates and freezes settings; errors name the field. */
export function compileFactorySettings(input: Partial<FactorySettings> = {}): FactorySettings {
  const schema = input.schema ?? 'factory';
  if (!SCHEMA_NAME.test(schema)) {
    throw new ConfigError(`FactorySettings.schema: ${JSON.stringify(schema)} must be lower-case letters, digits and _ (at most 63)`, { field: 'schema' });
  }
  const redisPrefix = input.redisPrefix ?? 'factory';
  if (!REDIS_PREFIX.test(redisPrefix)) {
    throw new ConfigError(`FactorySettings.redisPrefix: ${JSON.stringify(redisPrefix)} must be letters, digits and . _ : - (at most 100)`, { field: 'redisPrefix' });
  }
  const apiUrl = input.apiUrl === undefined ? undefined : httpUrl(input.apiUrl, 'apiUrl').replace(/\/+$/, '');
  const healthEndpoints = input.healthEndpoints?.map((endpoint, index) => {
    const field = `healthEndpoints[${index}]`;
    if (!/^[\w.-]{1,100}$/.test(endpoint.name)) {
      throw new ConfigError(`FactorySettings.${field}.name: ${JSON.stringify(endpoint.name)} must be letters, digits and . _ -`, { field: `${field}.name` });
    }
    if (!endpoint.url.startsWith('/')) httpUrl(endpoint.url, `${field}.url`);
    return Object.freeze({ name: endpoint.name, url: endpoint.url });
  });
  return Object.freeze({ schema, redisPrefix, apiUrl, healthEndpoints: healthEndpoints && Object.freeze(healthEndpoints) });
}

const ENV_NAMES: Readonly<Record<keyof FactorySettings, string>> = {
  schema: 'FACTORY_SCHEMA',
  redisPrefix: 'FACTORY_REDIS_PREFIX',
  apiUrl: 'FACTORY_API_URL',
  healthEndpoints: 'FACTORY_HEALTH_ENDPOINTS',
};

/** Reads `FACTORY_*` environment variables; errors name the variable. */
export function readFactorySettings(env: NodeJS.ProcessEnv = process.env): FactorySettings {
  const endpoints = env.FACTORY_HEALTH_ENDPOINTS?.trim();
  try {
    return compileFactorySettings({
      schema: nonEmpty(env.FACTORY_SCHEMA),
      redisPrefix: nonEmpty(env.FACTORY_REDIS_PREFIX),
      apiUrl: nonEmpty(env.FACTORY_API_URL),
      healthEndpoints: endpoints ? endpoints.split(',').map((pair, index) => parseEndpoint(pair.trim(), index)) : undefined,
    });
  } catch (error) {
    if (!(error instanceof ConfigError) || error.field === undefined) throw error;
    const variable = ENV_NAMES[error.field.replace(/\[.*$/, '') as keyof FactorySettings] ?? error.field;
    if (variable === error.field) throw error;
    throw new ConfigError(`${variable}: ${error.message}`, { field: variable, cause: error });
  }
}

function parseEndpoint(pair: string, index: number): HealthEndpoint {
  const equals = pair.indexOf('=');
  if (equals <= 0) {
    throw new ConfigError(`FACTORY_HEALTH_ENDPOINTS: entry ${index + 1} ${JSON.stringify(pair)} must be name=url`, { field: 'FACTORY_HEALTH_ENDPOINTS' });
  }
  return { name: pair.slice(0, equals).trim(), url: pair.slice(equals + 1).trim() };
}

function httpUrl(raw: string, field: string): string {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`FactorySettings.${field}: ${JSON.stringify(raw)} is not a URL (expected http://host:port)`, { field });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError(`FactorySettings.${field}: scheme ${JSON.stringify(parsed.protocol)} must be http: or https:`, { field });
  }
  return raw;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === '' ? undefined : trimmed;
}
