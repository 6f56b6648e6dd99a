-- Every control a person took on workers and tasks (shutdown, pool restart, grow, shrink, autoscale, add or cancel
-- a consumer, a rate limit, a revoke): who, when, from where (dashboard, API, CLI), on which worker(s), with what,
-- and what the workers answered. Read by the dashboard's worker pages and `nightshift control history`.
CREATE TABLE control_actions (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  actor text NOT NULL,
  via text NOT NULL,
  action text NOT NULL,
  -- the worker named, or NULL for every worker (a broadcast, such as a revoke)
  worker text,
  args jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- ok: every worker asked did it; refused: a worker said no; no-reply: nobody answered in time
  outcome text NOT NULL,
  replies jsonb NOT NULL DEFAULT '[]'::jsonb,
  CONSTRAINT control_actions_via_check CHECK (via IN ('dashboard', 'api', 'cli')),
  CONSTRAINT control_actions_outcome_check CHECK (outcome IN ('ok', 'refused', 'no-reply'))
);

CREATE INDEX control_actions_worker_at ON control_actions (worker, at DESC);
CREATE INDEX control_actions_at ON control_actions (at DESC);
