import { BadParameterError } from '@nightshift/core';
import { Ajv, type ErrorObject, type Options } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';

const COMMON: Options = {
  // Unknown parameters are refused, not dropped: a typo must not silently widen a query.
  removeAdditional: false,
  useDefaults: true,
  // The first problem is enough to answer, and checking all of them is work an attacker could ask for.
  allErrors: false,
  // The value and the schema at fault, for a message that shows both.
  verbose: true,
  // TypeBox marks its schemas with keywords of its own; fastify's route keywords (e.g. `hide`) are not ajv's.
  strict: false,
};

// A query string and path parameters are text: `limit=5` becomes 5. A JSON body has its types already:
// `"args": "x"` is refused, not turned into `["x"]`.
const AJV = { text: new Ajv({ ...COMMON, coerceTypes: 'array' }), json: new Ajv({ ...COMMON, coerceTypes: false }) };

/**
 * Fastify's validator compiler: the route schemas of the body without coercion, the others with it. A POST
 * without a body is read as `{}`, so an action whose options are all optional needs none.
 */
export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) => {
  if (httpPart === 'querystring') {
    const validate = AJV.text.compile(schema);
    // An empty parameter (`?since=`, as a form sends a field left blank) is as if it were absent.
    return (data: unknown) => {
      const value = Object.fromEntries(Object.entries(data ?? {}).filter(([, v]) => v !== ''));
      return validate(value) ? { value } : { error: validate.errors ?? [] };
    };
  }
  if (httpPart !== 'body') return AJV.text.compile(schema);
  const validate = AJV.json.compile(schema);
  return (data: unknown) => {
    const value = data ?? {};
    return validate(value) ? { value } : { error: validate.errors ?? [] };
  };
};

/**
 * The failed validation of a request (fastify's error, with ajv's `validation`), as the API's BadParameterError
 * naming the parameter. Anything else is returned as it is.
 */
export function asBadParameter(error: unknown): unknown {
  const validation = (error as { validation?: ErrorObject[]; validationContext?: string }).validation;
  const first = validation?.[0];
  if (first === undefined) return error;
  const context = (error as { validationContext?: string }).validationContext ?? 'request';
  const parameter = first.keyword === 'additionalProperties'
    ? String(first.params.additionalProperty)
    : first.keyword === 'required' ? String(first.params.missingProperty) : first.instancePath.split('/').slice(1).join('.') || context;
  return new BadParameterError(parameter, `${parameter}: ${describe(first)}`, { cause: error });
}

function describe(problem: ErrorObject): string {
  if (problem.keyword === 'additionalProperties') {
    const known = Object.keys((problem.parentSchema as { properties?: object } | undefined)?.properties ?? {});
    return `unknown parameter (known: ${known.join(', ') || 'none'})`;
  }
  if (problem.keyword === 'required') return 'is required';
  const description = (problem.parentSchema as { description?: unknown } | undefined)?.description;
  const value = problem.keyword === 'type' ? '' : `${JSON.stringify(problem.data)} `;
  return `${value}${problem.keyword === 'pattern' ? 'is not valid' : problem.message ?? 'is not valid'}${typeof description === 'string' ? ` (${description})` : ''}`;
}
