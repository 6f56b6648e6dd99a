-- The store's schema, generated from the catalog by packages/store (UPDATE_SCHEMA=1 npm test); do not edit.

CREATE TABLE nightshift.alert_groups (
  group_key text NOT NULL,
  task text NOT NULL,
  error_class text NOT NULL,
  opened_at timestamp with time zone NOT NULL DEFAULT now(),
  window_started_at timestamp with time zone NOT NULL DEFAULT now(),
  window_ends_at timestamp with time zone NOT NULL,
  first_dead_letter_id bigint NOT NULL,
  last_dead_letter_id bigint NOT NULL,
  last_message text,
  unsent integer NOT NULL DEFAULT 0,
  total integer NOT NULL DEFAULT 1
);
ALTER TABLE nightshift.alert_groups ADD CONSTRAINT alert_groups_pkey PRIMARY KEY (group_key);
CREATE INDEX alert_groups_window_idx ON nightshift.alert_groups USING btree (window_ends_at);

CREATE TABLE nightshift.alert_outbox (
  id bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
  channel text NOT NULL,
  kind text NOT NULL,
  group_key text NOT NULL,
  alert jsonb NOT NULL,
  created_at timestamp with time zone NOT NULL DEFAULT now(),
  due_at timestamp with time zone NOT NULL DEFAULT now(),
  attempts integer NOT NULL DEFAULT 0,
  last_error text,
  locked_until timestamp with time zone,
  sent_at timestamp with time zone
);
ALTER TABLE nightshift.alert_outbox ADD CONSTRAINT alert_outbox_kind_check CHECK ((kind = ANY (ARRAY['page'::text, 'summary'::text, 'schedule'::text])));
ALTER TABLE nightshift.alert_outbox ADD CONSTRAINT alert_outbox_pkey PRIMARY KEY (id);
CREATE INDEX alert_outbox_due_idx ON nightshift.alert_outbox USING btree (due_at, id) WHERE (sent_at IS NULL);
CREATE INDEX alert_outbox_sent_idx ON nightshift.alert_outbox USING btree (channel, sent_at) WHERE (sent_at IS NOT NULL);

CREATE TABLE nightshift.bulk_requeues (
  id uuid NOT NULL,
  by text NOT NULL,
  note text,
  filter jsonb NOT NULL,
  per_second double precision NOT NULL,
  total integer NOT NULL,
  done integer NOT NULL DEFAULT 0,
  state text NOT NULL DEFAULT 'running'::text,
  error text,
  started_at timestamp with time zone NOT NULL DEFAULT now(),
  finished_at timestamp with time zone,
  resumed integer NOT NULL DEFAULT 0,
  owner text,
  lease_until timestamp with time zone
);
ALTER TABLE nightshift.bulk_requeues ADD CONSTRAINT bulk_requeues_pkey PRIMARY KEY (id);
ALTER TABLE nightshift.bulk_requeues ADD CONSTRAINT bulk_requeues_state_check CHECK ((state = ANY (ARRAY['running'::text, 'finished'::text, 'failed'::text, 'stopped'::text])));
CREATE INDEX bulk_requeues_running_idx ON nightshift.bulk_requeues USING btree (lease_until) WHERE (state = 'running'::text);
CREATE INDEX bulk_requeues_started_idx ON nightshift.bulk_requeues USING btree (started_at DESC);

CREATE TABLE nightshift.control_actions (
  id bigint NOT NULL DEFAULT nextval('nightshift.control_actions_id_seq'::regclass),
  at timestamp with time zone NOT NULL DEFAULT now(),
  actor text NOT NULL,
  via text NOT NULL,
  action text NOT NULL,
  worker text,
  args jsonb NOT NULL DEFAULT '{}'::jsonb,
  outcome text NOT NULL,
  replies jsonb NOT NULL DEFAULT '[]'::jsonb
);
ALTER TABLE nightshift.control_actions ADD CONSTRAINT control_actions_outcome_check CHECK ((outcome = ANY (ARRAY['ok'::text, 'refused'::text, 'no-reply'::text])));
ALTER TABLE nightshift.control_actions ADD CONSTRAINT control_actions_pkey PRIMARY KEY (id);
ALTER TABLE nightshift.control_actions ADD CONSTRAINT control_actions_via_check CHECK ((via = ANY (ARRAY['dashboard'::text, 'api'::text, 'cli'::text])));
CREATE INDEX control_actions_at ON nightshift.control_actions USING btree (at DESC);
CREATE INDEX control_actions_worker_at ON nightshift.control_actions USING btree (worker, at DESC);

CREATE TABLE nightshift.dead_letter_reviews (
  id bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
  dead_letter_id bigint NOT NULL,
  action text NOT NULL,
  by text NOT NULL,
  at timestamp with time zone NOT NULL DEFAULT now(),
  note text,
  detail jsonb NOT NULL DEFAULT '{}'::jsonb
);
ALTER TABLE nightshift.dead_letter_reviews ADD CONSTRAINT dead_letter_reviews_action_check CHECK ((action = ANY (ARRAY['requeued'::text, 'ignored'::text, 'edited'::text])));
ALTER TABLE nightshift.dead_letter_reviews ADD CONSTRAINT dead_letter_reviews_dead_letter_id_fkey FOREIGN KEY (dead_letter_id) REFERENCES nightshift.dead_letters(id) ON DELETE CASCADE;
ALTER TABLE nightshift.dead_letter_reviews ADD CONSTRAINT dead_letter_reviews_pkey PRIMARY KEY (id);
CREATE INDEX dead_letter_reviews_letter_idx ON nightshift.dead_letter_reviews USING btree (dead_letter_id, id);

CREATE TABLE nightshift.dead_letters (
  id bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
  dedup_key text NOT NULL,
  message_id text,
  task text,
  queue text,
  args jsonb,
  kwargs jsonb,
  reason text NOT NULL,
  detail text,
  error_class text,
  error_code text,
  error_message text,
  error_stack text,
  error jsonb,
  attempts integer,
  worker text,
  first_failed_at timestamp with time zone,
  last_failed_at timestamp with time zone NOT NULL,
  trace_id text,
  replay_of text,
  headers jsonb NOT NULL DEFAULT '{}'::jsonb,
  properties jsonb NOT NULL DEFAULT '{}'::jsonb,
  body bytea NOT NULL,
  status text NOT NULL DEFAULT 'pending'::text,
  status_by text,
  status_at timestamp with time zone,
  status_note text,
  requeue_count integer NOT NULL DEFAULT 0,
  replay_id text,
  stored_at timestamp with time zone NOT NULL DEFAULT now(),
  task_attempt integer
);
ALTER TABLE nightshift.dead_letters ADD CONSTRAINT dead_letters_dedup_key_key UNIQUE (dedup_key);
ALTER TABLE nightshift.dead_letters ADD CONSTRAINT dead_letters_pkey PRIMARY KEY (id);
ALTER TABLE nightshift.dead_letters ADD CONSTRAINT dead_letters_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'requeued'::text, 'ignored'::text])));
CREATE INDEX dead_letters_error_class_time_idx ON nightshift.dead_letters USING btree (error_class, last_failed_at DESC, id DESC);
CREATE INDEX dead_letters_message_id_idx ON nightshift.dead_letters USING btree (message_id);
CREATE INDEX dead_letters_status_time_idx ON nightshift.dead_letters USING btree (status, last_failed_at DESC, id DESC);
CREATE UNIQUE INDEX dead_letters_task_attempt_key ON nightshift.dead_letters USING btree (message_id, task_attempt) WHERE (task_attempt IS NOT NULL);
CREATE INDEX dead_letters_task_time_idx ON nightshift.dead_letters USING btree (task, last_failed_at DESC, id DESC);
CREATE INDEX dead_letters_time_idx ON nightshift.dead_letters USING btree (last_failed_at DESC, id DESC);

CREATE TABLE nightshift.queue_actions (
  id bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
  queue text NOT NULL,
  action text NOT NULL,
  by text NOT NULL,
  at timestamp with time zone NOT NULL DEFAULT now(),
  detail jsonb NOT NULL DEFAULT '{}'::jsonb
);
ALTER TABLE nightshift.queue_actions ADD CONSTRAINT queue_actions_action_check CHECK ((action = ANY (ARRAY['purged'::text, 'promoted'::text])));
ALTER TABLE nightshift.queue_actions ADD CONSTRAINT queue_actions_pkey PRIMARY KEY (id);
CREATE INDEX queue_actions_queue_idx ON nightshift.queue_actions USING btree (queue, id DESC);

CREATE TABLE nightshift.schedule_change_marks (
  slot integer NOT NULL,
  changes bigint NOT NULL
);
ALTER TABLE nightshift.schedule_change_marks ADD CONSTRAINT schedule_change_marks_pkey PRIMARY KEY (slot);

CREATE TABLE nightshift.schedule_fires (
  seq bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
  entry text NOT NULL,
  fire_time timestamp with time zone NOT NULL,
  origin text NOT NULL,
  state text NOT NULL,
  run_id text,
  sent_at timestamp with time zone,
  lateness_ms double precision,
  by text,
  count integer NOT NULL DEFAULT 1,
  through_time timestamp with time zone,
  detail jsonb NOT NULL DEFAULT '{}'::jsonb,
  recorded_at timestamp with time zone NOT NULL DEFAULT now()
);
ALTER TABLE nightshift.schedule_fires ADD CONSTRAINT schedule_fires_count_check CHECK ((count >= 1));
ALTER TABLE nightshift.schedule_fires ADD CONSTRAINT schedule_fires_once UNIQUE (entry, fire_time, state);
ALTER TABLE nightshift.schedule_fires ADD CONSTRAINT schedule_fires_origin_check CHECK ((origin = ANY (ARRAY['schedule'::text, 'manual'::text, 'backfill'::text])));
ALTER TABLE nightshift.schedule_fires ADD CONSTRAINT schedule_fires_pkey PRIMARY KEY (seq);
ALTER TABLE nightshift.schedule_fires ADD CONSTRAINT schedule_fires_state_check CHECK ((state = ANY (ARRAY['sent'::text, 'paused'::text, 'overlap'::text, 'misfire'::text, 'expired'::text, 'state_lost'::text, 'unsent'::text])));
CREATE INDEX schedule_fires_entry_seq_idx ON nightshift.schedule_fires USING btree (entry, seq) WHERE (state <> 'sent'::text);
CREATE INDEX schedule_fires_entry_time_idx ON nightshift.schedule_fires USING btree (entry, fire_time DESC, seq DESC);
CREATE INDEX schedule_fires_recorded_idx ON nightshift.schedule_fires USING btree (recorded_at);
CREATE INDEX schedule_fires_run_idx ON nightshift.schedule_fires USING btree (run_id) WHERE (run_id IS NOT NULL);

CREATE TABLE nightshift.schedule_health (
  entry text NOT NULL,
  source text NOT NULL,
  status text NOT NULL,
  cause text,
  due_by timestamp with time zone,
  last_success_at timestamp with time zone,
  last_success_fire timestamp with time zone,
  consecutive_failures integer NOT NULL DEFAULT 0,
  judged_at timestamp with time zone NOT NULL DEFAULT now()
);
ALTER TABLE nightshift.schedule_health ADD CONSTRAINT schedule_health_pkey PRIMARY KEY (entry);
ALTER TABLE nightshift.schedule_health ADD CONSTRAINT schedule_health_source_check CHECK ((source = ANY (ARRAY['code'::text, 'runtime'::text])));
ALTER TABLE nightshift.schedule_health ADD CONSTRAINT schedule_health_status_check CHECK ((status = ANY (ARRAY['healthy'::text, 'overdue'::text, 'failing'::text, 'paused'::text, 'ended'::text])));

CREATE TABLE nightshift.schedule_incidents (
  entry text NOT NULL,
  source text NOT NULL,
  watched_since timestamp with time zone NOT NULL DEFAULT now(),
  definition_hash text NOT NULL,
  phase text NOT NULL DEFAULT 'quiet'::text,
  opened_status text,
  opened_at timestamp with time zone,
  opened_last_success_at timestamp with time zone,
  recovered_at timestamp with time zone,
  flap_since timestamp with time zone,
  flap_changes integer NOT NULL DEFAULT 0,
  flap_last_change_at timestamp with time zone,
  flap_bad boolean,
  missed_seq bigint NOT NULL DEFAULT 0,
  missed_paged_at timestamp with time zone,
  pause_told_for timestamp with time zone,
  version integer NOT NULL DEFAULT 1,
  updated_at timestamp with time zone NOT NULL DEFAULT now()
);
ALTER TABLE nightshift.schedule_incidents ADD CONSTRAINT schedule_incidents_phase_check CHECK ((phase = ANY (ARRAY['quiet'::text, 'incident'::text, 'flapping'::text])));
ALTER TABLE nightshift.schedule_incidents ADD CONSTRAINT schedule_incidents_pkey PRIMARY KEY (entry);
ALTER TABLE nightshift.schedule_incidents ADD CONSTRAINT schedule_incidents_source_check CHECK ((source = ANY (ARRAY['code'::text, 'runtime'::text])));

CREATE TABLE nightshift.schedule_states (
  name text NOT NULL,
  paused boolean NOT NULL DEFAULT false,
  paused_by text,
  paused_at timestamp with time zone,
  paused_note text,
  resumed_by text,
  resumed_at timestamp with time zone,
  version integer NOT NULL DEFAULT 1,
  updated_at timestamp with time zone NOT NULL DEFAULT now()
);
ALTER TABLE nightshift.schedule_states ADD CONSTRAINT schedule_states_pkey PRIMARY KEY (name);
CREATE TRIGGER schedule_states_mark AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON nightshift.schedule_states FOR EACH STATEMENT EXECUTE FUNCTION nightshift.mark_schedule_change();
ALTER TABLE nightshift.schedule_states ENABLE ALWAYS TRIGGER schedule_states_mark;
CREATE TRIGGER schedule_states_notify AFTER INSERT OR DELETE OR UPDATE ON nightshift.schedule_states FOR EACH ROW EXECUTE FUNCTION nightshift.notify_schedule_change();

CREATE TABLE nightshift.schedules (
  name text NOT NULL,
  definition jsonb NOT NULL,
  note text,
  version integer NOT NULL DEFAULT 1,
  created_by text NOT NULL,
  created_at timestamp with time zone NOT NULL DEFAULT now(),
  updated_by text NOT NULL,
  updated_at timestamp with time zone NOT NULL DEFAULT now()
);
ALTER TABLE nightshift.schedules ADD CONSTRAINT schedules_pkey PRIMARY KEY (name);
CREATE TRIGGER schedules_mark AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON nightshift.schedules FOR EACH STATEMENT EXECUTE FUNCTION nightshift.mark_schedule_change();
ALTER TABLE nightshift.schedules ENABLE ALWAYS TRIGGER schedules_mark;
CREATE TRIGGER schedules_notify AFTER INSERT OR DELETE OR UPDATE ON nightshift.schedules FOR EACH ROW EXECUTE FUNCTION nightshift.notify_schedule_change();

CREATE TABLE nightshift.schema_migrations (
  version integer NOT NULL,
  name text NOT NULL,
  checksum text NOT NULL,
  applied_at timestamp with time zone NOT NULL DEFAULT now()
);
ALTER TABLE nightshift.schema_migrations ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);

CREATE TABLE nightshift.task_events (
  seq bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
  run_id text NOT NULL,
  type text NOT NULL,
  at timestamp with time zone NOT NULL,
  attempt integer NOT NULL DEFAULT 0,
  worker text,
  detail jsonb NOT NULL DEFAULT '{}'::jsonb,
  recorded_at timestamp with time zone NOT NULL DEFAULT now()
);
ALTER TABLE nightshift.task_events ADD CONSTRAINT task_events_once UNIQUE (run_id, type, attempt, at);
ALTER TABLE nightshift.task_events ADD CONSTRAINT task_events_pkey PRIMARY KEY (seq);
CREATE INDEX task_events_recorded_idx ON nightshift.task_events USING btree (recorded_at);

CREATE TABLE nightshift.task_runs (
  id text NOT NULL,
  name text NOT NULL,
  queue text,
  state text NOT NULL,
  state_rank smallint NOT NULL,
  attempt integer NOT NULL DEFAULT 1,
  max_attempts integer,
  worker text,
  args jsonb,
  kwargs jsonb,
  sent_at timestamp with time zone NOT NULL,
  received_at timestamp with time zone,
  started_at timestamp with time zone,
  finished_at timestamp with time zone,
  runtime_ms double precision,
  result jsonb,
  error_class text,
  error_code text,
  error_message text,
  error_stack text,
  trace_id text,
  origin jsonb,
  updated_at timestamp with time zone NOT NULL DEFAULT now(),
  progress jsonb
);
ALTER TABLE nightshift.task_runs ADD CONSTRAINT task_runs_pkey PRIMARY KEY (id);
ALTER TABLE nightshift.task_runs ADD CONSTRAINT task_runs_state_check CHECK ((state = ANY (ARRAY['sent'::text, 'received'::text, 'started'::text, 'failed'::text, 'retried'::text, 'succeeded'::text, 'dead-lettered'::text, 'revoked'::text])));
CREATE INDEX task_runs_beat_sent_idx ON nightshift.task_runs USING btree (((origin ->> 'beat'::text)), sent_at DESC, id DESC) WHERE ((origin ->> 'beat'::text) IS NOT NULL);
CREATE INDEX task_runs_name_sent_idx ON nightshift.task_runs USING btree (name, sent_at DESC, id DESC);
CREATE INDEX task_runs_queue_sent_idx ON nightshift.task_runs USING btree (queue, sent_at DESC, id DESC);
CREATE INDEX task_runs_sent_idx ON nightshift.task_runs USING btree (sent_at DESC, id DESC);
CREATE INDEX task_runs_state_sent_idx ON nightshift.task_runs USING btree (state, sent_at DESC, id DESC);
CREATE INDEX task_runs_updated_idx ON nightshift.task_runs USING btree (updated_at);
CREATE INDEX task_runs_worker_sent_idx ON nightshift.task_runs USING btree (worker, sent_at DESC, id DESC);

CREATE OR REPLACE FUNCTION nightshift.fire_time_of(origin jsonb, fallback timestamp with time zone)
 RETURNS timestamp with time zone
 LANGUAGE plpgsql
 STABLE
AS $function$
BEGIN
  RETURN coalesce((origin->>'scheduledFor')::timestamptz, fallback);
EXCEPTION WHEN others THEN
  RETURN fallback;
END
$function$;

CREATE OR REPLACE FUNCTION nightshift.mark_schedule_change()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
  EXECUTE format('INSERT INTO %I.schedule_change_marks AS m (slot, changes) VALUES ($1, 1)
    ON CONFLICT (slot) DO UPDATE SET changes = m.changes + 1', TG_TABLE_SCHEMA) USING pg_backend_pid() % 128;
  RETURN NULL;
END
$function$;

CREATE OR REPLACE FUNCTION nightshift.notify_schedule_change()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
DECLARE
  channel text := 'nightshift_schedules.' || TG_TABLE_SCHEMA;
BEGIN
  IF current_setting('nightshift.schedule_notify', true) = 'deferred' THEN
    RETURN NULL;
  END IF;
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
$function$;
