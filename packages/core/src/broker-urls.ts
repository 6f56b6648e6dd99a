import { ConfigError } from './errors.ts';
import { redactUrl } from './secrecy.ts';

const AMQP_SCHEMES = ['amqp:', 'amqps:'];

/**
 * The RabbitMQ nodes of `NIGHTSHIFT_AMQP_URL`: one AMQP URL, or several separated by commas (the nodes of a
 * cluster, without a load balancer in front; clients connect to one and fail over to the next). A comma inside
 * a password must be percent-encoded (`%2C`), as any URL requires.
 * @param name the setting, named in errors.
 * @throws ConfigError naming the setting; every URL in the message has its password masked.
 */
export function parseBrokerUrls(raw: string, name = 'NIGHTSHIFT_AMQP_URL'): readonly string[] {
  const parts = raw.split(',').map((part) => part.trim());
  if (parts.some((part) => part === '')) throw new ConfigError(`${name}: ${JSON.stringify(redactUrl(raw))} has an empty entry (expected amqp://host:port, or several separated by commas)`);
  for (const part of parts) {
    let parsed: URL;
    try {
      parsed = new URL(part);
    } catch {
      throw new ConfigError(`${name}: ${JSON.stringify(redactUrl(part))} is not a URL (expected amqp://host:port, or several separated by commas)`);
    }
    if (!AMQP_SCHEMES.includes(parsed.protocol)) throw new ConfigError(`${name}: scheme ${JSON.stringify(parsed.protocol)} of ${JSON.stringify(redactUrl(part))} is not one of ${AMQP_SCHEMES.join(', ')}`);
  }
  return Object.freeze(parts);
}
