-- Runs of the scheduled jobs (docs/jobs.md). A scheduled run is identified by its job, the
-- fire time it belongs to (Unix seconds) and its attempt: the unique index is what makes
-- every period's run happen once across instances — the instance whose INSERT wins runs it.
-- A manual run (`cartorio worker --once`) or one triggered by an event takes the time it
-- started as its fire time and claims nothing (the job's lock alone keeps runs apart).
CREATE TABLE job_runs (
  id           {{ID_PK}},
  job          {{KEY_TEXT}} NOT NULL,
  scheduled_at BIGINT NOT NULL,
  attempt      INTEGER NOT NULL CHECK (attempt >= 0),
  trig         TEXT NOT NULL CHECK (trig IN ('schedule', 'manual', 'event')),
  instance     TEXT NOT NULL,  -- host:pid of the runner
  started_at   BIGINT NOT NULL,
  ended_at     BIGINT,         -- NULL while running (or when the runner died)
  result       TEXT NOT NULL CHECK (result IN ('running', 'success', 'failure', 'timeout')),
  error        TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX job_runs_slot ON job_runs (job, scheduled_at, attempt) WHERE trig = 'schedule';
-- The latest runs of one job, and its last success (/metrics).
CREATE INDEX job_runs_job_id ON job_runs (job, id);
