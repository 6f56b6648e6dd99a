-- Every message that reached the dead-letters queue, kept for people to review and replay.
CREATE TABLE dead_letters (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- message id + the death's own mark + a body hash: the same dead letter delivered twice is one row,
  -- while a task that dies again (a replay has a new message id) is a new one.
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
  first_failed_at timestamptz,
  last_failed_at timestamptz NOT NULL,
  trace_id text,
  -- the replayed dead letter this message came from, when it was a replay that died again
  replay_of text,
  headers jsonb NOT NULL DEFAULT '{}'::jsonb,
  properties jsonb NOT NULL DEFAULT '{}'::jsonb,
  body bytea NOT NULL,
  status text NOT NULL DEFAULT 'pending',
  status_by text,
  status_at timestamptz,
  status_note text,
  requeue_count integer NOT NULL DEFAULT 0,
  replay_id text,
  stored_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT dead_letters_dedup_key_key UNIQUE (dedup_key),
  CONSTRAINT dead_letters_status_check CHECK (status IN ('pending', 'requeued', 'ignored'))
);

CREATE INDEX dead_letters_time_idx ON dead_letters (last_failed_at DESC, id DESC);
CREATE INDEX dead_letters_status_time_idx ON dead_letters (status, last_failed_at DESC, id DESC);
CREATE INDEX dead_letters_task_time_idx ON dead_letters (task, last_failed_at DESC, id DESC);
