-- The audit trail of the control room. Every review of a dead letter (requeued, ignored, its args edited before a
-- requeue) is a row here with who, when and why; the dead letter's own status_by/status_at keep only the latest.
CREATE TABLE dead_letter_reviews (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  dead_letter_id bigint NOT NULL REFERENCES dead_letters (id) ON DELETE CASCADE,
  action text NOT NULL,
  by text NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  note text,
  -- requeued: the replay's id; edited: the args and kwargs before and after
  detail jsonb NOT NULL DEFAULT '{}'::jsonb,
  CONSTRAINT dead_letter_reviews_action_check CHECK (action IN ('requeued', 'ignored', 'edited'))
);
CREATE INDEX dead_letter_reviews_letter_idx ON dead_letter_reviews (dead_letter_id, id);

-- What people did to the broker's queues: purged (how many messages went), a delayed task promoted to run now.
CREATE TABLE queue_actions (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  queue text NOT NULL,
  action text NOT NULL,
  by text NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  detail jsonb NOT NULL DEFAULT '{}'::jsonb,
  CONSTRAINT queue_actions_action_check CHECK (action IN ('purged', 'promoted'))
);
CREATE INDEX queue_actions_queue_idx ON queue_actions (queue, id DESC);

-- Bulk review by error class (and the task page's link from a task to its dead letter, by message id).
CREATE INDEX dead_letters_error_class_time_idx ON dead_letters (error_class, last_failed_at DESC, id DESC);
CREATE INDEX dead_letters_message_id_idx ON dead_letters (message_id);
