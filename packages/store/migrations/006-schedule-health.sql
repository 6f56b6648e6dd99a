-- How each schedule entry is doing, as the alerter judged it last (it judges every few seconds, from the task
-- history, the fires, beat's lease and the queues): what the health-api shows beside each entry and what
-- /health/background reads. An entry that is no longer listed loses its row.
CREATE TABLE schedule_health (
  entry text PRIMARY KEY,
  source text NOT NULL,
  status text NOT NULL,
  cause text,
  due_by timestamptz,
  last_success_at timestamptz,
  -- the fire time of that success (what the next success is due after); never moves back
  last_success_fire timestamptz,
  consecutive_failures integer NOT NULL DEFAULT 0,
  judged_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT schedule_health_source_check CHECK (source IN ('code', 'runtime')),
  CONSTRAINT schedule_health_status_check CHECK (status IN ('healthy', 'overdue', 'failing', 'paused', 'ended'))
);

-- What the alerter has told people about each entry, so that a restart of any service neither pages an incident
-- again nor forgets one: the phase (quiet, an incident open, flapping), since when the entry is watched (its first
-- success is due after that), which fires not sent were told, and a version checked on every change, so that two
-- alerters judging at once page once.
CREATE TABLE schedule_incidents (
  entry text PRIMARY KEY,
  source text NOT NULL,
  watched_since timestamptz NOT NULL DEFAULT now(),
  -- a digest of the entry's definition: a changed one is watched afresh
  definition_hash text NOT NULL,
  phase text NOT NULL DEFAULT 'quiet',
  opened_status text,
  opened_at timestamptz,
  -- the last success known when the incident opened: a newer one ends it
  opened_last_success_at timestamptz,
  recovered_at timestamptz,
  flap_since timestamptz,
  flap_changes integer NOT NULL DEFAULT 0,
  flap_last_change_at timestamptz,
  flap_bad boolean,
  -- schedule_fires.seq up to which fires not sent have been told
  missed_seq bigint NOT NULL DEFAULT 0,
  missed_paged_at timestamptz,
  -- the paused_at of the pause whose missed runs were told (one page per pause)
  pause_told_for timestamptz,
  version integer NOT NULL DEFAULT 1,
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT schedule_incidents_source_check CHECK (source IN ('code', 'runtime')),
  CONSTRAINT schedule_incidents_phase_check CHECK (phase IN ('quiet', 'incident', 'flapping'))
);

-- The alerter's schedule messages (overdue, failing, missed runs, recovered, …) go through the same outbox.
ALTER TABLE alert_outbox DROP CONSTRAINT alert_outbox_kind_check;
ALTER TABLE alert_outbox ADD CONSTRAINT alert_outbox_kind_check CHECK (kind IN ('page', 'summary', 'schedule'));

-- The not-sent fires of an entry after a seq (the missed runs not told yet).
CREATE INDEX schedule_fires_entry_seq_idx ON schedule_fires (entry, seq) WHERE state <> 'sent';
