-- The tables that coordinate the network. Writes happen only through the RPCs in later
-- migrations (or the coordinator's service role); clients read what RLS lets them see.

create type public.worker_kind as enum ('browser', 'cli');
create type public.job_kind as enum ('training', 'inference');
-- created → funded → running ⇄ aggregating → completed | failed; cancelled and expired end it early.
create type public.job_status as enum (
  'created', 'funded', 'running', 'aggregating', 'completed', 'failed', 'cancelled', 'expired'
);
create type public.task_status as enum ('queued', 'leased', 'completed', 'failed', 'cancelled');
create type public.inference_status as enum ('pending', 'fulfilled', 'refunded', 'failed');
create type public.settlement_status as enum ('pending', 'submitted', 'confirmed', 'failed');

-- Amounts of native coin in wei, as decimal strings: a uint256 does not fit a JSON number, and
-- supabase-js would silently round a numeric column. 78 digits hold any uint256.
create domain public.wei_amount as text
  check (value ~ '^(0|[1-9][0-9]{0,77})$');
comment on domain public.wei_amount is 'A non-negative amount in wei as a decimal string (uint256 range).';

-- ------------------------------------------------------------------ workers
create table public.workers (
  id uuid primary key default gen_random_uuid(),
  owner_id uuid not null references auth.users (id) on delete cascade,
  name text not null check (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
  kind public.worker_kind not null,
  capabilities jsonb not null default '{}'::jsonb
    check (jsonb_typeof(capabilities) = 'object' and octet_length(capabilities::text) <= 4096),
  max_concurrency integer not null default 2 check (max_concurrency between 1 and 16),
  leases_held integer not null default 0 check (leases_held >= 0),
  last_seen_at timestamptz not null default now(),
  registered_at timestamptz not null default now(),
  tasks_completed bigint not null default 0,
  tasks_failed bigint not null default 0,
  -- Laplace-smoothed success rate: a new worker starts at 0.5, not at 0 or 1.
  reputation double precision generated always as
    ((tasks_completed + 1)::double precision / (tasks_completed + tasks_failed + 2)) stored,
  unique (owner_id, name)
);
comment on table public.workers is 'A browser tab or CLI process that trains shards for its owner. Registered through register_worker.';
comment on column public.workers.owner_id is 'The auth user who runs this worker and is paid for its work.';
comment on column public.workers.name is 'Unique per owner; register_worker with the same name updates the same worker.';
comment on column public.workers.capabilities is 'What the worker reports about itself (backend, cores, memory); at most 4 KiB.';
comment on column public.workers.max_concurrency is 'Most task leases the worker may hold at once; claim_task refuses beyond it.';
comment on column public.workers.leases_held is 'Task leases held right now; kept by the tasks_track_worker_leases trigger, never written directly.';
comment on column public.workers.last_seen_at is 'Last heartbeat or claim; a worker unseen for 45 s counts as offline.';
comment on column public.workers.tasks_completed is 'Leases this worker completed.';
comment on column public.workers.tasks_failed is 'Leases this worker failed or let expire.';
comment on column public.workers.reputation is '(completed + 1) / (completed + failed + 2).';

-- ------------------------------------------------------------------ jobs
create table public.jobs (
  id uuid primary key default gen_random_uuid(),
  owner_id uuid not null references auth.users (id) on delete cascade,
  kind public.job_kind not null default 'training',
  spec jsonb not null,
  reward_wei public.wei_amount not null,
  status public.job_status not null default 'created',
  status_reason text,
  rounds integer not null check (rounds between 1 and 1000),
  shards integer not null check (shards between 1 and 10000),
  current_round integer not null default 0,
  privacy_epsilon_spent double precision not null default 0 check (privacy_epsilon_spent >= 0),
  privacy_delta double precision not null check (privacy_delta > 0 and privacy_delta < 1),
  tasks_failed integer not null default 0 check (tasks_failed >= 0),
  chain_id bigint,
  chain_job_id text,
  escrow_tx_hash text check (escrow_tx_hash ~ '^0x[0-9a-f]{64}$'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz,
  check (current_round between 0 and rounds)
);
comment on table public.jobs is 'A training (or inference) job posted by its owner with a reward held in escrow. Created through create_job.';
comment on column public.jobs.spec is 'The validated job spec (internal.validate_job_spec); version 1 is documented in supabase/README.md.';
comment on column public.jobs.reward_wei is 'Reward held in escrow for the workers, in wei (decimal string).';
comment on column public.jobs.status is 'created → funded → running ⇄ aggregating → completed | failed; cancelled/expired end early. Transitions are checked by a trigger.';
comment on column public.jobs.status_reason is 'Why the job is in its status, or the last permanent task failure, in words.';
comment on column public.jobs.rounds is 'Federated rounds to run (spec.training.rounds).';
comment on column public.jobs.shards is 'Shards (tasks) per round (spec.training.shards).';
comment on column public.jobs.current_round is 'The round being trained; 0 before the first.';
comment on column public.jobs.privacy_epsilon_spent is 'ε spent so far: max over shards of the RDP-accounted ε, at privacy_delta.';
comment on column public.jobs.privacy_delta is 'δ of the (ε, δ) guarantee (spec.privacy.delta).';
comment on column public.jobs.tasks_failed is 'Tasks that failed permanently (max_attempts reached or not retryable).';
comment on column public.jobs.chain_id is 'EVM chain holding the escrow (8119 Shardeum testnet / local anvil, 8118 mainnet).';
comment on column public.jobs.chain_job_id is 'The job''s id in the escrow contract.';
comment on column public.jobs.escrow_tx_hash is 'Transaction that funded the escrow.';

-- ------------------------------------------------------------------ tasks
create table public.tasks (
  id bigint generated always as identity primary key,
  job_id uuid not null references public.jobs (id) on delete cascade,
  round integer not null check (round >= 1),
  shard_index integer not null check (shard_index >= 0),
  status public.task_status not null default 'queued',
  priority smallint not null default 0,
  run_after timestamptz not null default now(),
  leased_by uuid references public.workers (id) on delete set null,
  leased_at timestamptz,
  lease_expires_at timestamptz,
  attempts integer not null default 0 check (attempts >= 0),
  max_attempts integer not null default 3 check (max_attempts between 1 and 20),
  last_error text,
  result_id bigint,
  created_at timestamptz not null default now(),
  finished_at timestamptz,
  unique (job_id, round, shard_index),
  -- Not "leased_by is not null": deleting a worker (or its owner) sets leased_by to null, and
  -- its leases then expire and are requeued like those of any dead worker.
  check (status <> 'leased' or lease_expires_at is not null)
);
comment on table public.tasks is 'One shard of one round of a job: the unit a worker claims, trains and completes.';
comment on column public.tasks.status is 'queued → leased → completed; a failed or expired lease goes back to queued until max_attempts, then failed.';
comment on column public.tasks.priority is 'Higher first, within a job; fairness between jobs comes first (claim_task).';
comment on column public.tasks.run_after is 'Not claimable before this time: retry backoff after fail_task.';
comment on column public.tasks.leased_by is 'The worker holding the lease, or the last one that held it.';
comment on column public.tasks.lease_expires_at is 'The lease ends here unless the holder heartbeats; null when not leased.';
comment on column public.tasks.attempts is 'Leases granted so far (counted at claim).';
comment on column public.tasks.max_attempts is 'After this many attempts a failure or expiry fails the task for good.';
comment on column public.tasks.last_error is 'The reason of the last failure or expiry.';
comment on column public.tasks.result_id is 'The accepted result (task_results.id) once completed.';

-- ------------------------------------------------------------------ task results
create table public.task_results (
  id bigint generated always as identity primary key,
  task_id bigint not null unique references public.tasks (id) on delete cascade,
  job_id uuid not null references public.jobs (id) on delete cascade,
  worker_id uuid references public.workers (id) on delete set null,
  round integer not null,
  artifact_cid text not null check (artifact_cid ~ '^b[a-z2-7]{50,100}$'),
  artifact_path text check (length(artifact_path) between 1 and 1024),
  sample_count integer not null check (sample_count > 0),
  metrics jsonb not null default '{}'::jsonb check (jsonb_typeof(metrics) = 'object'),
  update_norm double precision check (update_norm >= 0),
  epsilon_spent double precision check (epsilon_spent >= 0),
  created_at timestamptz not null default now()
);
comment on table public.task_results is 'The model update a worker produced for a task: what FedAvg aggregates.';
comment on column public.task_results.artifact_cid is 'CIDv1 (base32, sha-256) of the update''s bytes in Storage.';
comment on column public.task_results.artifact_path is 'Storage path (bucket/key) of the update.';
comment on column public.task_results.sample_count is 'Training examples behind the update: the FedAvg weight.';
comment on column public.task_results.metrics is 'Local metrics, e.g. {"loss": 0.31, "accuracy": 0.91}.';
comment on column public.task_results.update_norm is 'L2 norm of the weight delta, for the aggregation bound.';
comment on column public.task_results.epsilon_spent is 'ε this shard has spent so far (RDP accountant), at the job''s δ.';

alter table public.tasks
  add constraint tasks_result_id_fkey foreign key (result_id) references public.task_results (id) on delete set null;

-- ------------------------------------------------------------------ models
create table public.models (
  id uuid primary key default gen_random_uuid(),
  owner_id uuid not null references auth.users (id) on delete cascade,
  job_id uuid references public.jobs (id) on delete set null,
  name text not null check (length(name) between 1 and 120),
  artifacts jsonb not null default '{}'::jsonb check (jsonb_typeof(artifacts) = 'object'),
  metrics jsonb not null default '{}'::jsonb check (jsonb_typeof(metrics) = 'object'),
  epsilon double precision check (epsilon >= 0),
  delta double precision check (delta > 0 and delta < 1),
  weights_commitment text,
  listed boolean not null default false,
  price_wei public.wei_amount,
  created_at timestamptz not null default now(),
  check (not listed or price_wei is not null)
);
comment on table public.models is 'A trained (aggregated) model and its downloadable artifacts.';
comment on column public.models.artifacts is 'Per format: {"tfjs"|"onnx"|"h5"|"pt"|"pkl": {"cid": …, "path": …, "bytes": …}}.';
comment on column public.models.epsilon is 'Differential-privacy ε the model cost, at delta.';
comment on column public.models.weights_commitment is 'Commitment to the quantized weights that inference proofs bind to.';
comment on column public.models.listed is 'Offered on the marketplace at price_wei per inference.';

-- ------------------------------------------------------------------ inference requests
create table public.inference_requests (
  id uuid primary key default gen_random_uuid(),
  model_id uuid not null references public.models (id) on delete cascade,
  buyer_id uuid not null references auth.users (id) on delete cascade,
  status public.inference_status not null default 'pending',
  input jsonb,
  input_commitment text not null,
  price_wei public.wei_amount not null,
  output jsonb,
  proof jsonb,
  public_signals jsonb,
  chain_id bigint,
  chain_request_id text,
  request_tx_hash text check (request_tx_hash ~ '^0x[0-9a-f]{64}$'),
  fulfil_tx_hash text check (fulfil_tx_hash ~ '^0x[0-9a-f]{64}$'),
  created_at timestamptz not null default now(),
  fulfilled_at timestamptz
);
comment on table public.inference_requests is 'A paid inference on a listed model; fulfilled with output + Groth16 proof.';
comment on column public.inference_requests.input_commitment is 'Hash of the input that the proof''s public signals bind to.';
comment on column public.inference_requests.proof is 'Groth16 proof (snarkjs JSON) of the quantized inference.';

-- ------------------------------------------------------------------ chain
create table public.chain_events (
  id bigint generated always as identity primary key,
  chain_id bigint not null,
  block_number bigint not null,
  block_hash text not null check (block_hash ~ '^0x[0-9a-f]{64}$'),
  tx_hash text not null check (tx_hash ~ '^0x[0-9a-f]{64}$'),
  log_index integer not null,
  contract_address text not null check (contract_address ~ '^0x[0-9a-fA-F]{40}$'),
  event_name text not null,
  args jsonb not null default '{}'::jsonb,
  job_id uuid references public.jobs (id) on delete set null,
  observed_at timestamptz not null default now(),
  unique (chain_id, tx_hash, log_index)
);
comment on table public.chain_events is 'Contract events mirrored from the chain by the coordinator (public data; idempotent by chain/tx/log).';

create table public.settlements (
  id bigint generated always as identity primary key,
  job_id uuid not null references public.jobs (id) on delete cascade,
  chain_id bigint not null,
  status public.settlement_status not null default 'pending',
  merkle_root text check (merkle_root ~ '^0x[0-9a-f]{64}$'),
  payouts jsonb not null default '[]'::jsonb check (jsonb_typeof(payouts) = 'array'),
  total_wei public.wei_amount not null default '0',
  model_cid text,
  metrics_hash text,
  tx_hash text check (tx_hash ~ '^0x[0-9a-f]{64}$'),
  block_number bigint,
  last_error text,
  created_at timestamptz not null default now(),
  confirmed_at timestamptz
);
comment on table public.settlements is 'One on-chain settlement per job: a Merkle root of (worker, amount) payouts.';
comment on column public.settlements.payouts is '[{"address": "0x…", "amount_wei": "…"}]: the Merkle leaves, so workers can build their proofs.';

-- ------------------------------------------------------------------ indexes
-- The claim (claim_task) walks running jobs, then takes the first queued task of a job in
-- (priority desc, id) order. This partial index matches that where/order exactly, so a claim
-- reads one index entry per job instead of scanning the backlog.
create index tasks_claim_order_idx on public.tasks (job_id, priority desc, id) where status = 'queued';
create index jobs_running_idx on public.jobs (created_at) where status = 'running';
-- Active leases: per job (fairness), per worker (heartbeat), by expiry (reaper).
create index tasks_active_by_job_idx on public.tasks (job_id) where status = 'leased';
create index tasks_active_by_worker_idx on public.tasks (leased_by) where status = 'leased';
create index tasks_lease_expiry_idx on public.tasks (lease_expires_at) where status = 'leased';
create index workers_owner_idx on public.workers (owner_id);
create index jobs_owner_idx on public.jobs (owner_id);
create index task_results_job_idx on public.task_results (job_id);
create index task_results_worker_idx on public.task_results (worker_id);
create index models_owner_idx on public.models (owner_id);
create index models_listed_idx on public.models (created_at) where listed;
create index inference_requests_model_idx on public.inference_requests (model_id);
create index inference_requests_buyer_idx on public.inference_requests (buyer_id);
create index chain_events_job_idx on public.chain_events (job_id);
create index settlements_job_idx on public.settlements (job_id);

-- ------------------------------------------------------------------ realtime
alter publication supabase_realtime add table
  public.workers, public.jobs, public.tasks, public.task_results, public.models,
  public.inference_requests, public.settlements;
