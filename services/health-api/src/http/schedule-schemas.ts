import { BadParameterError } from '@nightshift/core';
import { Type, type TSchema } from '@sinclair/typebox';
import { Anything, Duration, OneOf, Text } from './schemas.ts';

// The schedule routes' schemas: an entry as a request writes it (the JSON form every caller shares, checked
// further by the operations, whose errors name the field), and what the answers hold.

const ISO_INSTANT = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:\\d{2})$';

export const EntryParams = Type.Object({ name: Text('the entry\'s name', { minLength: 1 }) });

const Misfire = Type.Union([
  OneOf(['skip', 'once', 'all'] as const, 'what beat does with fire times missed while it was down'),
  Type.Object({
    policy: OneOf(['skip', 'once', 'all'] as const, 'the policy'),
    grace: Type.Optional(Duration('how late a missed run may still be sent')),
    cap: Type.Optional(Type.Integer({ minimum: 1, description: 'all: at most this many missed runs' })),
  }, { additionalProperties: false }),
], { description: 'skip, once (default) or all; or { policy, grace?, cap? }' });

const Schedule = Type.Union([
  Text('five cron fields, read in the entry\'s zone, e.g. 0 9 * * mon-fri', { minLength: 1 }),
  Type.Object({ every: Duration('an interval'), anchor: Type.Optional(Text('ISO 8601: the interval\'s origin', { pattern: ISO_INSTANT })) }, { additionalProperties: false }),
], { description: 'a cron string, or { every: "5m" }' });

const Task = Text('the task to send, one of the app\'s', { minLength: 1 });

const Alert = Type.Object({
  overdueAfter: Type.Optional(Type.Union([Duration('how long past the time a success was due before the entry is overdue and pages'), Type.Literal(false)], { description: 'a duration (default 5m), or false: no dead man\'s switch' })),
  afterFailures: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'page once when this many runs in a row end in dead letters' })),
  pauseAfterFailures: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'pause the entry when this many runs in a row end in dead letters' })),
}, { additionalProperties: false, description: 'when its silence or its failures page someone' });

/** An entry's fields as a request writes them, each but `name`, `task` and `schedule` optional. */
const FIELDS = {
  args: Type.Array(Type.Unknown(), { description: 'the task\'s positional arguments' }),
  kwargs: Type.Object({}, { additionalProperties: true, description: 'keyword arguments' }),
  queue: Text('another queue than the task\'s'),
  expires: Duration('a run not started this long after it was sent is not run'),
  misfire: Misfire,
  timezone: Text('the IANA zone of the cron, e.g. Europe/Berlin (default: the app\'s)'),
  overlap: OneOf(['allow', 'skip', 'buffer-one'] as const, 'while the last run has not finished: allow (default) sends, skip does not, buffer-one sends once it finishes'),
  jitter: Duration('each run is sent a fixed offset of up to this after its fire time'),
  startAt: Text('ISO 8601 with Z or an offset: no fire time before it', { pattern: ISO_INSTANT }),
  endAt: Text('ISO 8601 with Z or an offset: no fire time after it', { pattern: ISO_INSTANT }),
  alert: Alert,
  note: Text('why the entry exists, or why it changed'),
};

/** A field a change may remove with `null` (back to its default). */
const removable = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()], { description: `${schema.description ?? ''}; null removes it` }));

/** `POST /api/schedules`: a new runtime entry. */
export const CreateBody = Type.Object({
  name: Text('the entry\'s name: letters, digits and . _ : @ - (unique among the code\'s and the runtime\'s entries)', { minLength: 1 }),
  task: Task,
  schedule: Schedule,
  args: Type.Optional(FIELDS.args),
  kwargs: Type.Optional(FIELDS.kwargs),
  queue: Type.Optional(FIELDS.queue),
  expires: Type.Optional(FIELDS.expires),
  misfire: Type.Optional(FIELDS.misfire),
  timezone: Type.Optional(FIELDS.timezone),
  overlap: Type.Optional(FIELDS.overlap),
  jitter: Type.Optional(FIELDS.jitter),
  startAt: Type.Optional(FIELDS.startAt),
  endAt: Type.Optional(FIELDS.endAt),
  alert: Type.Optional(FIELDS.alert),
  note: Type.Optional(FIELDS.note),
}, { additionalProperties: false });

/** `PATCH /api/schedules/{name}`: the fields to change (null removes an optional one); the others are kept. */
export const PatchBody = Type.Object({
  task: Type.Optional(Task),
  schedule: Type.Optional(Schedule),
  args: Type.Optional(FIELDS.args),
  kwargs: Type.Optional(FIELDS.kwargs),
  queue: removable(FIELDS.queue),
  expires: removable(FIELDS.expires),
  misfire: Type.Optional(FIELDS.misfire),
  timezone: removable(FIELDS.timezone),
  overlap: Type.Optional(FIELDS.overlap),
  jitter: removable(FIELDS.jitter),
  startAt: removable(FIELDS.startAt),
  endAt: removable(FIELDS.endAt),
  alert: removable(FIELDS.alert),
  note: removable(FIELDS.note),
}, { additionalProperties: false, minProperties: 1 });

/**
 * The version a change is made against, in `If-Match` (what `ETag` said when the entry was read): `3`, `"3"` or
 * `W/"3"`. A change made against a version that is no longer current is refused with 409 `E_SCHEDULE_CONFLICT`.
 */
export const VersionHeaders = (required: boolean) => Type.Object({
  'if-match': required
    ? Type.String({ description: 'the version the change is made against: the entry\'s ETag (its `version`)', pattern: '^(W/)?"?\\d+"?$' })
    : Type.Optional(Type.String({ description: 'the version to remove; without it, whatever version is there', pattern: '^(W/)?"?\\d+"?$' })),
});

/** The version in an `If-Match` header. */
export function readVersion(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const version = Number(header.replace(/^W\//, '').replaceAll('"', ''));
  if (!Number.isInteger(version) || version < 1) throw new BadParameterError('if-match', `if-match: ${JSON.stringify(header)} is not a version (the entry's ETag, e.g. "3")`);
  return version;
}

/** The `ETag` of an entry at a version. */
export const etag = (version: number) => `"${version}"`;

export const PauseBody = Type.Object({ note: Type.Optional(Text('why it is paused: shown to whoever looks next')) }, { additionalProperties: false });
export const RunNowBody = Type.Object({ force: Type.Optional(Type.Boolean({ description: 'send even while the last run of an entry whose overlap is skip or buffer-one has not finished' })) }, { additionalProperties: false });
export const BackfillBody = Type.Object({
  from: Text('ISO 8601 with Z or an offset: the first fire time of the range', { pattern: ISO_INSTANT }),
  to: Text('ISO 8601 with Z or an offset: the last fire time of the range, not after now', { pattern: ISO_INSTANT }),
  ratePerSecond: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1000, description: 'runs sent a second, default 10' })),
}, { additionalProperties: false });

export const RunsQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, description: 'fires per page, default 20' })),
  before: Type.Optional(Text('only fire times before this one (ISO 8601): the last `fireTime` of the previous page', { pattern: ISO_INSTANT })),
}, { additionalProperties: false });

export const EntryAnswer = Anything('the entry: `name`, `source` (code or runtime), `task`, `schedule` (cron or { every }), `description` in words, `timezone`, `args`, `kwargs`, `queue`, `expires`, `misfire`, `overlap`, `jitter`, `startAt`, `endAt`, `note`, who created and changed it and when, `version`, `paused` ({ by, at, note } or null), `nextRuns`; the ETag header is its version');
export const RunsAnswer = Type.Object({
  next: Type.Array(Type.String(), { description: 'the next fire times, ISO 8601' }),
  fires: Type.Array(Anything('a fire: `fireTime`, `origin` (schedule, manual, backfill), `state` (sent, paused, overlap, misfire, expired, state_lost, unsent), `runId`, `sentAt`, `latenessMs`, `by`, `count` and `throughTime` (a row standing for several fire times), `run` (the run\'s `state`, `finishedAt`, `runtimeMs`, error) once known'), { description: 'newest first' }),
});
