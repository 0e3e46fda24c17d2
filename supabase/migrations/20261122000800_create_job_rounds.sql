-- One row per federated round of a job: which global model the round trained from, and what
-- aggregating it gave (accuracy, loss, ε). Written only by the coordinator's RPCs (start_round,
-- finish_round); job owners and the workers of the job read it, live through Realtime.

create type public.round_status as enum ('training', 'aggregated');

create table public.job_rounds (
  job_id uuid not null references public.jobs (id) on delete cascade,
  round integer not null check (round >= 1),
  status public.round_status not null default 'training',
  global_model_cid text not null check (global_model_cid ~ '^b[a-z2-7]{50,100}$'),
  global_model_path text not null check (length(global_model_path) between 1 and 1024),
  tasks_completed integer not null default 0 check (tasks_completed >= 0),
  tasks_failed integer not null default 0 check (tasks_failed >= 0),
  sample_count bigint not null default 0 check (sample_count >= 0),
  test_accuracy double precision check (test_accuracy between 0 and 1),
  test_loss double precision check (test_loss >= 0 and test_loss < 'infinity'),
  epsilon_spent double precision check (epsilon_spent >= 0 and epsilon_spent < 'infinity'),
  metrics jsonb not null default '{}'::jsonb check (jsonb_typeof(metrics) = 'object'),
  started_at timestamptz not null default now(),
  aggregated_at timestamptz,
  primary key (job_id, round),
  check ((status = 'aggregated') = (aggregated_at is not null))
);
comment on table public.job_rounds is 'One federated round of a job: the global model it trained from and, once aggregated, what the new global model scored. Written by start_round and finish_round.';
comment on column public.job_rounds.round is 'The round number, 1 to jobs.rounds; tasks.round of the round''s tasks.';
comment on column public.job_rounds.status is 'training while its tasks run; aggregated once finish_round recorded the aggregate.';
comment on column public.job_rounds.global_model_cid is 'CIDv1 (base32, sha-256) of the weights the round started from.';
comment on column public.job_rounds.global_model_path is 'Object key of those weights in the artifacts bucket: jobs/<job_id>/rounds/<round>/global.obw.';
comment on column public.job_rounds.tasks_completed is 'Shards whose update went into the aggregate (set by finish_round).';
comment on column public.job_rounds.tasks_failed is 'Shards that failed for good in this round (set by finish_round).';
comment on column public.job_rounds.sample_count is 'Training examples behind the aggregate: the sum of the accepted updates'' sample counts.';
comment on column public.job_rounds.test_accuracy is 'Accuracy of the aggregated model on the held-out test split, 0 to 1; null without a test split.';
comment on column public.job_rounds.test_loss is 'Cross-entropy of the aggregated model on the test split; null without a test split.';
comment on column public.job_rounds.epsilon_spent is 'ε spent up to and including this round, at jobs.privacy_delta; null when the job trains without differential privacy.';
comment on column public.job_rounds.metrics is 'Other numbers the coordinator reports for the round, e.g. {"update_norm_mean": 0.8, "rejected": 1}.';
comment on column public.job_rounds.started_at is 'When start_round queued the round''s tasks.';
comment on column public.job_rounds.aggregated_at is 'When finish_round recorded the aggregate; null while training.';

alter table public.job_rounds enable row level security;

create policy "Job owners and the job's workers see its rounds" on public.job_rounds
  for select to authenticated
  using (job_id = any ((select internal.my_job_ids())::uuid[]) or job_id = any ((select internal.my_worked_job_ids())::uuid[]));

grant select on public.job_rounds to authenticated;

alter publication supabase_realtime add table public.job_rounds;
