import { randomBytes } from 'node:crypto';

// The random part makes each take of the lease unique, so a replica restarted under the same name never
// renews or releases the lease its previous life held.
const SEPARATOR = '#';
const NONCE_BYTES = 6;
const NONCE = new RegExp(`${SEPARATOR}[0-9a-f]{${NONCE_BYTES * 2}}$`);

/** A fresh token for `replica`'s lease: the replica's name, `#`, and random hex. */
export function leaseToken(replica: string): string {
  return `${replica}${SEPARATOR}${randomBytes(NONCE_BYTES).toString('hex')}`;
}

/** The replica a lease token names (the token without its random part). */
export function leaseHolder(token: string): string {
  return token.replace(NONCE, '');
}
