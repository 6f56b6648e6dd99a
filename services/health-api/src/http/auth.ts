import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './api-error.ts';

export interface AuthOptions {
  /** `name → password` from `NIGHTSHIFT_DASHBOARD_USERS`. */
  readonly users: ReadonlyMap<string, string>;
  /** `NIGHTSHIFT_API_TOKEN`. */
  readonly apiToken: string | undefined;
}

/** Who made a request, and how. */
export interface Principal {
  readonly user: string;
  /** `token` requests carry no ambient credential a browser would add on its own, so CSRF does not apply to them. */
  readonly via: 'basic' | 'token' | 'open';
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** The header the dashboard sends its CSRF token in. */
export const CSRF_HEADER = 'x-nightshift-csrf';

const same = (a: string, b: string): boolean => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

/**
 * Authentication (basic auth for people, a bearer token for scripts; open when neither is configured, which
 * the service only allows on loopback) and CSRF protection for mutations made with browser credentials: a
 * token bound to the user, issued by `GET /api/session` and required in `x-nightshift-csrf`, and an `Origin`
 * that, when present, must be this host.
 */
export class Auth {
  readonly #options: AuthOptions;
  readonly #secret = randomBytes(32);

  constructor(options: AuthOptions) {
    this.#options = options;
  }

  get open(): boolean {
    return this.#options.users.size === 0 && this.#options.apiToken === undefined;
  }

  /** The principal of a request, or a 401 asking for credentials. */
  authenticate(request: FastifyRequest, reply: FastifyReply): Principal {
    if (this.open) return { user: 'anonymous', via: 'open' };
    const header = request.headers.authorization ?? '';
    const [scheme, value = ''] = header.split(' ', 2);
    if (scheme?.toLowerCase() === 'bearer' && this.#options.apiToken !== undefined && same(value, this.#options.apiToken)) return { user: 'api-token', via: 'token' };
    if (scheme?.toLowerCase() === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const user = decoded.slice(0, colon);
      const password = this.#options.users.get(user);
      if (colon > 0 && password !== undefined && same(decoded.slice(colon + 1), password)) return { user, via: 'basic' };
    }
    if (this.#options.users.size > 0) void reply.header('www-authenticate', 'Basic realm="Nightshift", charset="UTF-8"');
    throw new ApiError(401, 'E_UNAUTHORIZED', 'authentication required: basic auth (NIGHTSHIFT_DASHBOARD_USERS) or Authorization: Bearer <NIGHTSHIFT_API_TOKEN>');
  }

  /** The CSRF token of a user. */
  csrfToken(user: string): string {
    return createHmac('sha256', this.#secret).update(user).digest('base64url');
  }

  /** Refuses a mutation made with browser credentials that lacks the user's CSRF token or comes from another origin. */
  checkCsrf(request: FastifyRequest, principal: Principal): void {
    if (!MUTATING.has(request.method) || principal.via === 'token') return;
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== 'null') {
      let host: string;
      try {
        host = new URL(origin).host;
      } catch {
        host = '';
      }
      if (host !== request.headers.host) throw new ApiError(403, 'E_CSRF', `cross-origin request from ${origin} refused`);
    }
    const token = request.headers[CSRF_HEADER];
    if (typeof token !== 'string' || !same(token, this.csrfToken(principal.user))) {
      throw new ApiError(403, 'E_CSRF', `missing or wrong ${CSRF_HEADER} header: get the token from GET /api/session`);
    }
  }
}
