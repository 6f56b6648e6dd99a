import type { Secrecy } from './setting.ts';

/** A URL with its password replaced by `***`, safe to log. */
export function redactUrl(raw: string): string {
  try {
    const parsed = new URL(raw);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return raw.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
  }
}

/** The password of a URL as written and decoded (`p%40ss` and `p@ss`), or none. */
export function urlPasswords(raw: string): string[] {
  let password: string;
  try {
    password = new URL(raw).password;
  } catch {
    return [];
  }
  return password === '' ? [] : [password, decodeURIComponent(password)];
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
