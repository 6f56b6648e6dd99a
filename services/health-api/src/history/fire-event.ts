import type { LifecycleEvent } from '@nightshift/broker';
import { FIRE_ORIGINS, type FireInput, type FireOrigin, type FireState } from '@nightshift/store';
import { redact, type RedactOptions } from '@nightshift/telemetry';

// Beat's reasons for not sending a fire time, as the schedule's history names them. Its misfire policy's reasons
// are all `misfire`; a reason not listed (a lost lease, a stop, an unroutable message) is `unsent`. The event's own
// reason stays in the detail.
const MISSED_STATES: Readonly<Record<string, FireState>> = {
  paused: 'paused', overlap: 'overlap', expired: 'expired', state_lost: 'state_lost',
  misfire: 'misfire', skipped: 'misfire', coalesced: 'misfire', 'over-cap': 'misfire',
};

// Fields that become columns; anything else the event says goes to the fire's detail.
const KNOWN = new Set(['type', 'at', 'entry', 'scheduledFor', 'through', 'count', 'origin', 'by', 'id', 'lagMs']);

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
const time = (value: unknown): string | undefined => {
  const raw = text(value);
  return raw === undefined || Number.isNaN(Date.parse(raw)) ? undefined : new Date(raw).toISOString();
};

/**
 * A fire time's fate from one of beat's events, as the history records it: `beat.dispatched` (sent by the
 * schedule, a run now or a backfill) or `beat.missed` (not sent, and why). `undefined` for any other event, and
 * for one that does not name its entry and fire time.
 */
export function toFire(event: LifecycleEvent, redaction: RedactOptions): FireInput | undefined {
  if (event.type !== 'beat.dispatched' && event.type !== 'beat.missed') return undefined;
  const entry = text(event.entry);
  const fireTime = time(event.scheduledFor);
  if (entry === undefined || fireTime === undefined) return undefined;
  const detail: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event)) if (!KNOWN.has(key)) detail[key] = value;
  const origin: FireOrigin = FIRE_ORIGINS.includes(event.origin as FireOrigin) ? event.origin as FireOrigin : 'schedule';
  const by = text(event.by);
  const common = {
    entry, fireTime, origin,
    ...(by !== undefined ? { by } : {}),
    ...(Object.keys(detail).length > 0 ? { detail: redact(detail, redaction) as Record<string, unknown> } : {}),
  };
  if (event.type === 'beat.dispatched') {
    const runId = text(event.id);
    const lateness = typeof event.lagMs === 'number' && Number.isFinite(event.lagMs) ? event.lagMs : undefined;
    return {
      ...common, state: 'sent', ...(runId !== undefined ? { runId } : {}), ...(time(event.at) !== undefined ? { sentAt: time(event.at) } : {}),
      ...(lateness !== undefined ? { latenessMs: lateness } : {}),
    };
  }
  const count = Number.isInteger(event.count) && (event.count as number) >= 1 ? event.count as number : 1;
  const through = time(event.through);
  return {
    ...common, state: MISSED_STATES[String(event.reason)] ?? 'unsent', count,
    ...(through !== undefined && through !== fireTime ? { throughTime: through } : {}),
  };
}
