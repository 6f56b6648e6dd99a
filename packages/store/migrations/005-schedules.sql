-- Runtime schedules: entries created, changed and removed while the app runs (the app's code holds the others).
-- `definition` is the entry's JSON form (@nightshift/schedule's RuntimeEntryInput, without the note); `version`
-- goes up by one on every change, and a change names the version it was made against, so two people changing
-- one entry at once cannot lose an update.
CREATE TABLE schedules (
  name text PRIMARY KEY,
  definition jsonb NOT NULL,
  note text,
  version integer NOT NULL DEFAULT 1,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_by text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- The operational state of any entry, of the code or runtime, by name: paused or not, by whom, when and why.
-- No row means running.
CREATE TABLE schedule_states (
  name text PRIMARY KEY,
  paused boolean NOT NULL DEFAULT false,
  paused_by text,
  paused_at timestamptz,
  paused_note text,
  resumed_by text,
  resumed_at timestamptz,
  version integer NOT NULL DEFAULT 1,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Each fire time's fate: sent (by the schedule, run now or a backfill), or not sent and why. A row that was not
-- sent may stand for `count` fire times, from fire_time through through_time. A redelivered event is recorded
-- once. No foreign key to task_runs: both are written from events, in any order, and pruned by time.
CREATE TABLE schedule_fires (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  entry text NOT NULL,
  fire_time timestamptz NOT NULL,
  origin text NOT NULL,
  state text NOT NULL,
  run_id text,
  sent_at timestamptz,
  lateness_ms double precision,
  by text,
  count integer NOT NULL DEFAULT 1,
  through_time timestamptz,
  detail jsonb NOT NULL DEFAULT '{}'::jsonb,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT schedule_fires_origin_check CHECK (origin IN ('schedule', 'manual', 'backfill')),
  CONSTRAINT schedule_fires_state_check CHECK (state IN ('sent', 'paused', 'overlap', 'misfire', 'expired', 'state_lost', 'unsent')),
  CONSTRAINT schedule_fires_count_check CHECK (count >= 1),
  CONSTRAINT schedule_fires_once UNIQUE (entry, fire_time, state)
);

CREATE INDEX schedule_fires_entry_time_idx ON schedule_fires (entry, fire_time DESC, seq DESC);
CREATE INDEX schedule_fires_run_idx ON schedule_fires (run_id) WHERE run_id IS NOT NULL;
CREATE INDEX schedule_fires_recorded_idx ON schedule_fires (recorded_at);

-- "The last run of entry X": runs sent by beat, run now or a backfill carry the entry in origin.beat.
CREATE INDEX task_runs_beat_sent_idx ON task_runs ((origin->>'beat'), sent_at DESC, id DESC) WHERE origin->>'beat' IS NOT NULL;

-- The fire time a run's origin names (origin.scheduledFor), or `fallback` when it names none or one that is not
-- a time: a hand-made message must not break an entry's history.
CREATE FUNCTION fire_time_of(origin jsonb, fallback timestamptz) RETURNS timestamptz LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN coalesce((origin->>'scheduledFor')::timestamptz, fallback);
EXCEPTION WHEN others THEN
  RETURN fallback;
END
$$;

-- Every change of an entry or its state is announced to whoever listens (beat), with the entry's name as
-- payload, on a channel of this schema's own: `nightshift_schedules.<schema>`, or with an md5 of the schema
-- where that is longer than PostgreSQL's 63 bytes (@nightshift/store's scheduleChannel computes the same).
CREATE FUNCTION notify_schedule_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  channel text := 'nightshift_schedules.' || TG_TABLE_SCHEMA;
BEGIN
  IF octet_length(channel) > 63 THEN
    channel := 'nightshift_schedules.' || md5(TG_TABLE_SCHEMA);
  END IF;
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify(channel, OLD.name);
  ELSE
    PERFORM pg_notify(channel, NEW.name);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER schedules_notify AFTER INSERT OR UPDATE OR DELETE ON schedules
  FOR EACH ROW EXECUTE FUNCTION notify_schedule_change();
CREATE TRIGGER schedule_states_notify AFTER INSERT OR UPDATE OR DELETE ON schedule_states
  FOR EACH ROW EXECUTE FUNCTION notify_schedule_change();
