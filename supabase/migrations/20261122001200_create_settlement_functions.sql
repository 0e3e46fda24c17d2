-- Settlement and slashing, as the coordinator records them. The chain is the truth; these rows
-- say what the coordinator is doing about it, so a restart carries on instead of paying twice:
--   jobs_awaiting_settlement()  chain-funded jobs that ended (completed or failed) and have no
--                               confirmed (or permanently failed) settlement yet
--   job_accepted_work(job)      accepted tasks per payout address: what computePayouts pays
--   record_settlement(…)        one row per job: pending (tree computed) → confirmed (settle mined,
--                               or the JobSettled event mirrored) | failed (the contract refused)
--   record_slash(task, why)     before a refused update is rejected: what its worker's bond owes
--                               the job's creator (pending), once per task and evidence
--   record_slash_result(…)      confirmed with what the contract took, or failed
-- All service_role only.

-- ------------------------------------------------------------------ settlements: one per job

-- A disputed settlement is settled anew by updating the same row, so one row per job suffices;
-- record_chain_events' JobSettled path already updates the job's row or inserts the first one.
create unique index settlements_one_per_job_idx on public.settlements (job_id);
drop index public.settlements_job_idx;

create function public.jobs_awaiting_settlement(p_limit integer default 20)
returns setof public.jobs
language sql stable security definer set search_path = ''
as $$
  select j.*
  from public.jobs j
  where j.status in ('completed', 'failed') and j.chain_id is not null
    and not exists (
      select 1 from public.settlements s where s.job_id = j.id and s.status in ('confirmed', 'failed')
    )
  order by j.finished_at, j.id
  limit least(greatest(coalesce(p_limit, 20), 1), 100)
$$;
comment on function public.jobs_awaiting_settlement(integer) is
  'Coordinator only: chain-funded jobs that completed or failed and still need their settle transaction (oldest first).';

-- A task's result row exists only while it is accepted (reject_task_result deletes it), so the
-- accepted work is the job's task_results. Workers without a payout address come back as one
-- null row: their share stays with the creator.
create function public.job_accepted_work(p_job_id uuid)
returns table (payout_address text, task_count integer)
language sql stable security definer set search_path = ''
as $$
  select w.payout_address, count(*)::integer
  from public.task_results r
  left join public.workers w on w.id = r.worker_id
  where r.job_id = p_job_id
  group by w.payout_address
  order by w.payout_address
$$;
comment on function public.job_accepted_work(uuid) is
  'Coordinator only: how many accepted tasks of the job each payout address delivered (null: workers without one).';

create function public.record_settlement(
  p_job_id uuid,
  p_status public.settlement_status,
  p_merkle_root text,
  p_payouts jsonb,
  p_total_wei text,
  p_model_cid text,
  p_metrics_hash text,
  p_tx_hash text default null,
  p_block_number bigint default null,
  p_error text default null
) returns public.settlements
language plpgsql security definer set search_path = ''
as $$
declare
  v_job public.jobs;
  v_row public.settlements;
  v_payout jsonb;
begin
  select * into v_job from public.jobs j where j.id = p_job_id;
  if not found then
    raise exception 'Job % does not exist', coalesce(p_job_id::text, 'null') using errcode = 'OB002', detail = 'p_job_id';
  end if;
  if v_job.chain_id is null then
    raise exception 'Job % has no escrow on chain: there is nothing to settle', p_job_id
      using errcode = 'OB021', hint = 'Only jobs funded on chain (JobFunded mirrored) are settled.';
  end if;
  if p_status is null or p_status = 'submitted' then
    raise exception 'p_status must be pending, confirmed or failed' using errcode = 'OB002', detail = 'p_status';
  end if;
  if p_merkle_root is null or p_merkle_root !~ '^0x[0-9a-f]{64}$' then
    raise exception 'p_merkle_root must be 0x and 64 lower-case hex digits' using errcode = 'OB002', detail = 'p_merkle_root';
  end if;
  if jsonb_typeof(p_payouts) is distinct from 'array' then
    raise exception 'p_payouts must be a JSON array' using errcode = 'OB002', detail = 'p_payouts';
  end if;
  for v_payout in select e from jsonb_array_elements(p_payouts) e loop
    if jsonb_typeof(v_payout) <> 'object' or (v_payout ->> 'address') !~ '^0x[0-9a-f]{40}$'
       or (v_payout ->> 'amount_wei') !~ '^[1-9][0-9]{0,77}$' then
      raise exception 'Each payout must be {"address": lower-case 0x + 40 hex, "amount_wei": positive decimal string}, got %', left(v_payout::text, 200)
        using errcode = 'OB002', detail = 'p_payouts';
    end if;
  end loop;
  if p_status = 'confirmed' and (p_tx_hash is null or p_tx_hash !~ '^0x[0-9a-f]{64}$') then
    raise exception 'A confirmed settlement needs its transaction hash (0x + 64 lower-case hex)' using errcode = 'OB002', detail = 'p_tx_hash';
  end if;

  insert into public.settlements as s
    (job_id, chain_id, status, merkle_root, payouts, total_wei, model_cid, metrics_hash, tx_hash, block_number, last_error, confirmed_at)
  values
    (p_job_id, v_job.chain_id, p_status, p_merkle_root, p_payouts, p_total_wei, p_model_cid, p_metrics_hash, p_tx_hash, p_block_number,
     left(p_error, 1000), case when p_status = 'confirmed' then now() end)
  on conflict (job_id) do update
    set status = excluded.status, merkle_root = excluded.merkle_root, payouts = excluded.payouts,
        total_wei = excluded.total_wei, model_cid = excluded.model_cid, metrics_hash = excluded.metrics_hash,
        tx_hash = coalesce(excluded.tx_hash, s.tx_hash), block_number = coalesce(excluded.block_number, s.block_number),
        last_error = excluded.last_error, confirmed_at = coalesce(s.confirmed_at, excluded.confirmed_at)
    -- A confirmed settlement is final: a late "pending" or "failed" from a retry never undoes it
    -- (the mirrored JobSettled event may have confirmed it first).
    where s.status <> 'confirmed'
  returning * into v_row;
  if not found then
    select * into v_row from public.settlements s where s.job_id = p_job_id;
  end if;
  return v_row;
end
$$;
comment on function public.record_settlement(uuid, public.settlement_status, text, jsonb, text, text, text, text, bigint, text) is
  'Coordinator only: records the job''s settlement (payout leaves, root, total, model CID, metrics hash): pending before the settle transaction, confirmed with its hash once mined, failed when the contract refused it. A confirmed row never changes again.';

-- ------------------------------------------------------------------ slashes

create table public.slashes (
  id bigint generated always as identity primary key,
  job_id uuid not null references public.jobs (id) on delete cascade,
  task_id bigint references public.tasks (id) on delete set null,
  worker_id uuid references public.workers (id) on delete set null,
  chain_id bigint not null,
  address text not null check (address ~ '^0x[0-9a-f]{40}$'),
  amount_wei public.wei_amount not null,
  evidence_cid text not null check (evidence_cid ~ '^b[a-z2-7]{50,100}$'),
  reason text not null check (length(reason) between 1 and 1000),
  status public.settlement_status not null default 'pending',
  taken_wei public.wei_amount,
  tx_hash text check (tx_hash ~ '^0x[0-9a-f]{64}$'),
  block_number bigint,
  last_error text,
  created_at timestamptz not null default now(),
  confirmed_at timestamptz,
  unique (task_id, evidence_cid)
);
comment on table public.slashes is 'Bonds slashed for refused updates: the rejected update (evidence_cid) stays in storage; the Slashed event carries sha-256 of that CID. Public, as the chain shows it anyway.';
comment on column public.slashes.amount_wei is 'What the coordinator asks: the value of one task of the job, reward / (rounds × shards).';
comment on column public.slashes.taken_wei is 'What the contract took: at most the bond (bonded, then unbonding).';
create index slashes_pending_idx on public.slashes (created_at) where status = 'pending';
create index slashes_job_idx on public.slashes (job_id);

alter table public.slashes enable row level security;
create policy "Anyone can read slashes" on public.slashes for select to anon, authenticated using (true);
grant select on public.slashes to anon, authenticated;
alter publication supabase_realtime add table public.slashes;

create function public.record_slash(p_task_id bigint, p_reason text)
returns public.slashes
language plpgsql security definer set search_path = ''
as $$
declare
  v_reason text := internal.assert_reason(p_reason);
  v_row public.slashes;
begin
  -- div(), not /: numeric division rounds to its result scale (1000000000000000007 / 8 gives
  -- …001), while the payouts (computePayouts) floor.
  insert into public.slashes (job_id, task_id, worker_id, chain_id, address, amount_wei, evidence_cid, reason)
  select j.id, t.id, w.id, j.chain_id, w.payout_address,
         div(j.reward_wei::numeric, j.rounds * j.shards)::text, r.artifact_cid, v_reason
  from public.tasks t
  join public.task_results r on r.task_id = t.id
  join public.jobs j on j.id = t.job_id
  join public.workers w on w.id = r.worker_id
  where t.id = p_task_id and j.chain_id is not null and w.payout_address is not null
    and div(j.reward_wei::numeric, j.rounds * j.shards) > 0
  on conflict (task_id, evidence_cid) do nothing
  returning * into v_row;
  if not found then
    -- Already recorded (a coordinator restarted between this and reject_task_result), or nothing
    -- to slash: a local job, or a worker without a payout address.
    select s.* into v_row
    from public.slashes s join public.task_results r on r.task_id = s.task_id and r.artifact_cid = s.evidence_cid
    where s.task_id = p_task_id;
  end if;
  return v_row;
end
$$;
comment on function public.record_slash(bigint, text) is
  'Coordinator only, before reject_task_result: records that the worker whose update for this task was refused owes the job''s creator one task''s value from its bond. Null for local jobs and workers without a payout address; idempotent per update.';

create function public.record_slash_result(
  p_slash_id bigint,
  p_status public.settlement_status,
  p_taken_wei text default null,
  p_tx_hash text default null,
  p_block_number bigint default null,
  p_error text default null
) returns public.slashes
language plpgsql security definer set search_path = ''
as $$
declare
  v_row public.slashes;
begin
  if p_status is null or p_status not in ('confirmed', 'failed') then
    raise exception 'p_status must be confirmed or failed' using errcode = 'OB002', detail = 'p_status';
  end if;
  if p_status = 'confirmed' and (p_tx_hash is null or p_tx_hash !~ '^0x[0-9a-f]{64}$' or p_taken_wei is null) then
    raise exception 'A confirmed slash needs its transaction hash and the amount taken' using errcode = 'OB002', detail = 'p_tx_hash';
  end if;
  update public.slashes s
  set status = p_status, taken_wei = coalesce(p_taken_wei, s.taken_wei), tx_hash = coalesce(p_tx_hash, s.tx_hash),
      block_number = coalesce(p_block_number, s.block_number), last_error = left(p_error, 1000),
      confirmed_at = case when p_status = 'confirmed' then now() end
  where s.id = p_slash_id and s.status = 'pending'
  returning * into v_row;
  if not found then
    select * into v_row from public.slashes s where s.id = p_slash_id;
    if not found then
      raise exception 'Slash % does not exist', coalesce(p_slash_id::text, 'null') using errcode = 'OB002', detail = 'p_slash_id';
    end if;
  end if;
  return v_row;
end
$$;
comment on function public.record_slash_result(bigint, public.settlement_status, text, text, bigint, text) is
  'Coordinator only: a pending slash is confirmed (with the amount the contract took) or failed (the worker had no bond left); a decided slash never changes.';

revoke all on function public.jobs_awaiting_settlement(integer), public.job_accepted_work(uuid),
  public.record_settlement(uuid, public.settlement_status, text, jsonb, text, text, text, text, bigint, text),
  public.record_slash(bigint, text),
  public.record_slash_result(bigint, public.settlement_status, text, text, bigint, text)
  from public, anon, authenticated;
grant execute on function public.jobs_awaiting_settlement(integer), public.job_accepted_work(uuid),
  public.record_settlement(uuid, public.settlement_status, text, jsonb, text, text, text, text, bigint, text),
  public.record_slash(bigint, text),
  public.record_slash_result(bigint, public.settlement_status, text, text, bigint, text)
  to service_role;
