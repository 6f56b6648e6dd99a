import type { Secrecy } from './setting.ts';

/**
 * A URL, or a comma-separated list of them (a cluster's nodes), with every password replaced by `***`, safe
 * to log. Text that is not a URL still has anything shaped like `user:password@` masked.
 */
export function redactUrl(raw: string): string {
  return raw.split(',').map(redactOne).join(',');
}

function redactOne(raw: string): string {
  try {
    const parsed = new URL(raw.trim());
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    // Whatever looks like `user:password@`, with or without the `//` before it.
    return raw.replace(/([^\s:/@]+):[^@\s/]*@/g, '$1:***@');
  }
}

/** The password of a URL (or of each URL of a comma-separated list) as written and decoded (`p%40ss` and `p@ss`). */
export function urlPasswords(raw: string): string[] {
  return raw.split(',').flatMap((one) => {
    let password: string;
    try {
      password = new URL(one.trim()).password;
    } catch {
      return [];
    }
    return password === '' ? [] : [password, decodeURIComponent(password)];
  });
}

/** A value secret as a whole (a token): shown as `***`. */
export const WHOLE_VALUE_SECRET: Secrecy = Object.freeze({
  mask: () => '***',
  parts: (raw: string) => [raw],
});

/** A URL whose password is secret (`amqp://user:pw@host`): shown with `***` for the password. */
export const URL_PASSWORD_SECRET: Secrecy = Object.freeze({
  mask: redactUrl,
  parts: urlPasswords,
});
