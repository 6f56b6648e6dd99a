-- Bulk requeues of dead letters by filter, paced (SQS redrive style). Kept here rather than in a health-api's
-- memory, so that a health-api restarted (or lost) mid-way is followed by one that resumes the job where it was,
-- and any replica can answer for its progress. `done` is counted in the transaction of each replay: exact after a crash.
CREATE TABLE bulk_requeues (
  id uuid PRIMARY KEY,
  by text NOT NULL,
  note text,
  -- the dead-letter filter as given (task, errorClass, reason, since, until), bounded to letters dead before it started
  filter jsonb NOT NULL,
  per_second double precision NOT NULL,
  -- the pending dead letters it takes at most: the count the person confirmed, or fewer if fewer matched
  total integer NOT NULL,
  done integer NOT NULL DEFAULT 0,
  state text NOT NULL DEFAULT 'running',
  error text,
  started_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  -- how many times a health-api took it over from one that stopped or was lost
  resumed integer NOT NULL DEFAULT 0,
  -- the health-api running it now, and until when; a running job with no owner or a lapsed lease is taken over
  owner text,
  lease_until timestamptz,
  CONSTRAINT bulk_requeues_state_check CHECK (state IN ('running', 'finished', 'failed', 'stopped'))
);

CREATE INDEX bulk_requeues_running_idx ON bulk_requeues (lease_until) WHERE state = 'running';
CREATE INDEX bulk_requeues_started_idx ON bulk_requeues (started_at DESC);
