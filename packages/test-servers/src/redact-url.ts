const SECRET_PARAM = /pass|secret|token|key/i;

/**
 * A URL fit to print: without its user info (user and password) and with secret-looking query
 * parameters masked. Unparseable input is not echoed at all, since it may hold a password.
 */
export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return '(an unparseable URL)';
  }
  url.username = '';
  url.password = '';
  for (const key of [...url.searchParams.keys()]) {
    if (SECRET_PARAM.test(key)) url.searchParams.set(key, '***');
  }
  return url.toString();
}
