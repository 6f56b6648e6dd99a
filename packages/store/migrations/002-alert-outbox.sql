-- Alert groups: one per (task, error class) while dead letters of it keep arriving within the window.
CREATE TABLE alert_groups (
  group_key text PRIMARY KEY,
  task text NOT NULL,
  error_class text NOT NULL,
  opened_at timestamptz NOT NULL DEFAULT now(),
  window_started_at timestamptz NOT NULL DEFAULT now(),
  window_ends_at timestamptz NOT NULL,
  first_dead_letter_id bigint NOT NULL,
  last_dead_letter_id bigint NOT NULL,
  last_message text,
  -- dead letters counted since the last page or summary, not yet told to anyone
  unsent integer NOT NULL DEFAULT 0,
  total integer NOT NULL DEFAULT 1
);

CREATE INDEX alert_groups_window_idx ON alert_groups (window_ends_at);

-- Notifications to send, one row per channel: written in the transaction that stores the dead letter,
-- sent afterwards, marked sent. An outage of a channel delays them; nothing is lost or sent twice.
CREATE TABLE alert_outbox (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  channel text NOT NULL,
  kind text NOT NULL,
  group_key text NOT NULL,
  alert jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  due_at timestamptz NOT NULL DEFAULT now(),
  attempts integer NOT NULL DEFAULT 0,
  last_error text,
  locked_until timestamptz,
  sent_at timestamptz,
  CONSTRAINT alert_outbox_kind_check CHECK (kind IN ('page', 'summary'))
);

CREATE INDEX alert_outbox_due_idx ON alert_outbox (due_at, id) WHERE sent_at IS NULL;
CREATE INDEX alert_outbox_sent_idx ON alert_outbox (channel, sent_at) WHERE sent_at IS NOT NULL;
