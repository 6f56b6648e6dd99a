-- One row per task run (one task message id, across its retries), kept by the health-api's recorder from
-- lifecycle events. `state_rank` orders states within an attempt, so a late or duplicate event never moves
-- a run backwards: an event changes the state only when its (attempt, state_rank) is greater.
CREATE TABLE task_runs (
  id text PRIMARY KEY,
  name text NOT NULL,
  queue text,
  state text NOT NULL,
  state_rank smallint NOT NULL,
  attempt integer NOT NULL DEFAULT 1,
  max_attempts integer,
  worker text,
  args jsonb,
  kwargs jsonb,
  sent_at timestamptz NOT NULL,
  received_at timestamptz,
  started_at timestamptz,
  finished_at timestamptz,
  runtime_ms double precision,
  result jsonb,
  error_class text,
  error_code text,
  error_message text,
  error_stack text,
  trace_id text,
  origin jsonb,
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT task_runs_state_check CHECK (state IN ('sent', 'received', 'started', 'failed', 'retried', 'succeeded', 'dead-lettered', 'revoked'))
);

CREATE INDEX task_runs_sent_idx ON task_runs (sent_at DESC, id DESC);
CREATE INDEX task_runs_state_sent_idx ON task_runs (state, sent_at DESC, id DESC);
CREATE INDEX task_runs_name_sent_idx ON task_runs (name, sent_at DESC, id DESC);
CREATE INDEX task_runs_worker_sent_idx ON task_runs (worker, sent_at DESC, id DESC);
CREATE INDEX task_runs_queue_sent_idx ON task_runs (queue, sent_at DESC, id DESC);
CREATE INDEX task_runs_updated_idx ON task_runs (updated_at);

-- The event timeline of each run. No foreign key: events and runs are written in one batch and pruned by time.
CREATE TABLE task_events (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id text NOT NULL,
  type text NOT NULL,
  at timestamptz NOT NULL,
  attempt integer NOT NULL DEFAULT 0,
  worker text,
  detail jsonb NOT NULL DEFAULT '{}'::jsonb,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  -- a redelivered event (same run, type, attempt, worker and time) is recorded once
  CONSTRAINT task_events_once UNIQUE (run_id, type, attempt, at)
);

CREATE INDEX task_events_recorded_idx ON task_events (recorded_at);
