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
ALTER TABLE nightshift.alert_outbox ADD CONSTRAINT alert_outbox_kind_check CHECK ((kind = ANY (ARRAY['page'::text, 'summary'::text])));
ALTER TABLE nightshift.alert_outbox ADD CONSTRAINT alert_outbox_pkey PRIMARY KEY (id);
CREATE INDEX alert_outbox_due_idx ON nightshift.alert_outbox USING btree (due_at, id) WHERE (sent_at IS NULL);
CREATE INDEX alert_outbox_sent_idx ON nightshift.alert_outbox USING btree (channel, sent_at) WHERE (sent_at IS NOT NULL);

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
CREATE INDEX dead_letters_status_time_idx ON nightshift.dead_letters USING btree (status, last_failed_at DESC, id DESC);
CREATE UNIQUE INDEX dead_letters_task_attempt_key ON nightshift.dead_letters USING btree (message_id, task_attempt) WHERE (task_attempt IS NOT NULL);
CREATE INDEX dead_letters_task_time_idx ON nightshift.dead_letters USING btree (task, last_failed_at DESC, id DESC);
CREATE INDEX dead_letters_time_idx ON nightshift.dead_letters USING btree (last_failed_at DESC, id DESC);

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
  updated_at timestamp with time zone NOT NULL DEFAULT now()
);
ALTER TABLE nightshift.task_runs ADD CONSTRAINT task_runs_pkey PRIMARY KEY (id);
ALTER TABLE nightshift.task_runs ADD CONSTRAINT task_runs_state_check CHECK ((state = ANY (ARRAY['sent'::text, 'received'::text, 'started'::text, 'failed'::text, 'retried'::text, 'succeeded'::text, 'dead-lettered'::text, 'revoked'::text])));
CREATE INDEX task_runs_name_sent_idx ON nightshift.task_runs USING btree (name, sent_at DESC, id DESC);
CREATE INDEX task_runs_queue_sent_idx ON nightshift.task_runs USING btree (queue, sent_at DESC, id DESC);
CREATE INDEX task_runs_sent_idx ON nightshift.task_runs USING btree (sent_at DESC, id DESC);
CREATE INDEX task_runs_state_sent_idx ON nightshift.task_runs USING btree (state, sent_at DESC, id DESC);
CREATE INDEX task_runs_updated_idx ON nightshift.task_runs USING btree (updated_at);
CREATE INDEX task_runs_worker_sent_idx ON nightshift.task_runs USING btree (worker, sent_at DESC, id DESC);
