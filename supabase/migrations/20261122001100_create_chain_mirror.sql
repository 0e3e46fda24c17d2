-- The chain mirror: the coordinator (service_role) reads OblivionSettlement's events and
-- mirrors them here with ONE call per batch, record_chain_events, which stores each event once
-- (by chain, transaction and log index) and applies its effect to jobs, settlements and wallet
-- bonds only the first time. Workers name the address they are paid at (register_worker's
-- p_payout_address), and claim_task lets a worker lease tasks of a chain-funded job only while
-- that address's bond covers what its leases are worth (the stake rule, below).

-- ------------------------------------------------------------------ payout addresses

alter table public.workers
  add column payout_address text check (payout_address ~ '^0x[0-9a-f]{40}$');
comment on column public.workers.payout_address is
  'EVM address (lower-case 0x + 40 hex) the worker is paid at and whose bond (wallet_bonds) stakes its leases of chain-funded jobs; null: local jobs only.';
create index workers_owner_payout_idx on public.workers (owner_id, payout_address) where payout_address is not null;

-- ------------------------------------------------------------------ tables

create table public.wallet_bonds (
  chain_id bigint not null,
  address text not null check (address ~ '^0x[0-9a-f]{40}$'),
  bonded_wei public.wei_amount not null,
  unbonding_wei public.wei_amount not null,
  unlock_at timestamptz,
  block_number bigint not null check (block_number >= 0),
  updated_at timestamptz not null default now(),
  primary key (chain_id, address)
);
comment on table public.wallet_bonds is 'Each wallet''s bond in the settlement contract, as of its latest mirrored Bonded/UnbondRequested/Withdrawn/Slashed event. Public chain data.';
comment on column public.wallet_bonds.address is 'The bonded wallet, lower-case 0x + 40 hex (workers.payout_address).';
comment on column public.wallet_bonds.bonded_wei is 'Bond that stakes leases now, in wei (decimal string); claim_task allows leases worth up to 2 × this on the chain.';
comment on column public.wallet_bonds.unbonding_wei is 'Bond requested back and waiting for unlock_at, in wei; it no longer stakes leases.';
comment on column public.wallet_bonds.unlock_at is 'When the unbonding amount can be withdrawn; null when nothing is unbonding.';
comment on column public.wallet_bonds.block_number is 'Block of the event this row mirrors; an older event never overwrites a newer one.';

create table public.chain_cursors (
  chain_id bigint not null,
  contract_address text not null check (contract_address ~ '^0x[0-9a-f]{40}$'),
  last_block bigint not null check (last_block >= 0),
  updated_at timestamptz not null default now(),
  primary key (chain_id, contract_address)
);
comment on table public.chain_cursors is 'How far the coordinator has mirrored each contract''s events: it resumes after last_block. Coordinator only.';
comment on column public.chain_cursors.last_block is 'Every event up to this block is in chain_events; only ever moves forward.';

alter table public.wallet_bonds enable row level security;
alter table public.chain_cursors enable row level security;

-- Bonds are on chain for anyone to read; mirroring them hides nothing.
create policy "Anyone can read mirrored wallet bonds" on public.wallet_bonds
  for select to anon, authenticated using (true);
grant select on public.wallet_bonds to anon, authenticated;
-- chain_cursors: no policy, no grant: only the coordinator's service_role (BYPASSRLS) sees it.

alter publication supabase_realtime add table public.wallet_bonds;

-- ------------------------------------------------------------------ register_worker

drop function public.register_worker(text, public.worker_kind, jsonb, integer);

create function public.register_worker(
  p_name text,
  p_kind public.worker_kind,
  p_capabilities jsonb default '{}'::jsonb,
  p_max_concurrency integer default 2,
  p_payout_address text default null
) returns public.workers
language plpgsql security definer set search_path = ''
as $$
declare
  v_uid uuid := internal.require_user();
  v_worker public.workers;
begin
  if p_name is null or p_name !~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' then
    raise exception 'Invalid worker name %: use 1 to 64 letters, digits, dot, dash or underscore, starting with a letter or digit',
      coalesce('"' || left(p_name, 80) || '"', 'nothing')
      using errcode = 'OB002', detail = 'p_name', hint = 'For example "laptop-1" or "gpu-box.cli".';
  end if;
  if p_kind is null then
    raise exception 'p_kind must be browser or cli' using errcode = 'OB002', detail = 'p_kind';
  end if;
  if p_capabilities is null or jsonb_typeof(p_capabilities) <> 'object' or octet_length(p_capabilities::text) > 4096 then
    raise exception 'p_capabilities must be a JSON object of at most 4096 bytes'
      using errcode = 'OB002', detail = 'p_capabilities';
  end if;
  if p_max_concurrency is null or p_max_concurrency not between 1 and 16 then
    raise exception 'p_max_concurrency must be between 1 and 16 (got %)', coalesce(p_max_concurrency::text, 'nothing')
      using errcode = 'OB002', detail = 'p_max_concurrency', hint = 'The network default is 2 leases per worker.';
  end if;
  if p_payout_address is not null and p_payout_address !~ '^0x[0-9a-f]{40}$' then
    raise exception 'Invalid payout address "%": expected 0x and 40 lower-case hex digits', left(p_payout_address, 80)
      using errcode = 'OB002', detail = 'p_payout_address',
            hint = 'Pass the EVM address you bond and are paid at in lower case (ethers: getAddress(a).toLowerCase()), or leave it out to train local jobs only.';
  end if;
  insert into public.workers as w (owner_id, name, kind, capabilities, max_concurrency, payout_address)
  values (v_uid, p_name, p_kind, p_capabilities, p_max_concurrency, p_payout_address)
  on conflict (owner_id, name) do update
    set kind = excluded.kind, capabilities = excluded.capabilities,
        max_concurrency = excluded.max_concurrency, payout_address = excluded.payout_address, last_seen_at = now()
  returning * into v_worker;
  return v_worker;
end
$$;
comment on function public.register_worker(text, public.worker_kind, jsonb, integer, text) is
  'Registers (or updates, by name) one of the caller''s workers and returns it. p_payout_address (lower-case) is where it is paid and whose bond stakes its leases of chain-funded jobs; null: local jobs only.';

revoke all on function public.register_worker(text, public.worker_kind, jsonb, integer, text) from public, anon;
grant execute on function public.register_worker(text, public.worker_kind, jsonb, integer, text) to authenticated;

-- ------------------------------------------------------------------ claim_task: the stake rule
--
-- Stake 50 %: on a job funded on chain (jobs.chain_id not null) a worker leases a task only if
-- its payout address is bonded on that chain and
--     value(leases held by the owner's workers with that payout address on jobs of that chain)
--       + value(this task)  ≤  2 × bonded_wei
-- where a task's value is reward_wei / (rounds × shards): the bond is at least half of what the
-- address could walk away with, and a slash (Slashed) costs more than abandoning work earns.
-- Local jobs (chain_id null: funded without escrow) keep the rule-free claim.
--
-- The sum is read in the claim's snapshot: two claims racing for the same address can each
-- pass on the same sum, so the exposure can exceed 2 × bond by at most one task per claim in
-- flight (at most max_concurrency per worker). Making it exact would need a counter on the
-- bond row locked by every chain-job claim, which serialises all workers of one wallet; the
-- bond is a deterrent, not an accounting ledger, so we take the small overshoot.
create or replace function public.claim_task(p_worker_id uuid, p_lease_seconds integer default 60)
returns table (
  task_id bigint, job_id uuid, round integer, shard_index integer, shard_count integer,
  attempt integer, lease_expires_at timestamptz, spec jsonb
)
language plpgsql security definer set search_path = ''
as $$
#variable_conflict use_column
declare
  v_uid uuid := internal.require_user();
  v_worker public.workers;
begin
  if p_lease_seconds is null or p_lease_seconds not between 1 and 3600 then
    perform internal.assert_lease_seconds(p_lease_seconds); -- raises; inline test keeps the hot path cheap
  end if;
  -- Lazy reaping: a probe of the partial expiry index (0.04 ms) keeps the reaper off the hot
  -- path. now(), not clock_timestamp(): a volatile bound cannot drive an index scan (measured:
  -- a 9 ms sequential scan at 20,000 leases).
  if exists (select 1 from public.tasks t where t.status = 'leased' and t.lease_expires_at < now()) then
    perform public.reap_expired_leases();
  end if;

  -- The claim: ONE statement. (1) lock the worker row only if it is the caller's and below its
  -- cap; (2) walk running jobs, fewest active leases first (oldest first on ties), so a huge
  -- job cannot starve a small one, skipping chain-funded jobs the worker's bond does not cover
  -- (the stake rule above; local jobs skip the check at the first `or`); take the first queued
  -- task of the first job that has one free (SKIP LOCKED: concurrent claims pass each other
  -- instead of queueing); (3) lease it.
  return query
  with worker as materialized (
    select w.id, w.payout_address
    from public.workers w
    where w.id = p_worker_id and w.owner_id = v_uid and w.leases_held < w.max_concurrency
    for update
  ),
  next_task as (
    select q.id
    from (
      select j.id, j.created_at,
             (select count(*) from public.tasks a where a.job_id = j.id and a.status = 'leased') as active_leases
      from public.jobs j
      where j.status = 'running'
        -- Skip jobs with nothing queued (all leased, or between rounds): one probe of the
        -- claim index each, instead of counting and sorting them on every claim.
        and exists (select 1 from public.tasks e where e.job_id = j.id and e.status = 'queued')
        and (j.chain_id is null or exists (
          select 1
          from worker me
          join public.wallet_bonds b on b.chain_id = j.chain_id and b.address = me.payout_address
          where (
            select coalesce(sum(lj.reward_wei::numeric / (lj.rounds * lj.shards)), 0)
            from public.workers lw
            join public.tasks lt on lt.leased_by = lw.id and lt.status = 'leased'
            join public.jobs lj on lj.id = lt.job_id
            where lw.owner_id = v_uid and lw.payout_address = me.payout_address and lj.chain_id = j.chain_id
          ) + j.reward_wei::numeric / (j.rounds * j.shards) <= 2 * b.bonded_wei::numeric
        ))
      order by active_leases, j.created_at, j.id
    ) fair_jobs
    cross join lateral (
      select t.id
      from public.tasks t
      where t.job_id = fair_jobs.id and t.status = 'queued' and t.run_after <= now()
      order by t.priority desc, t.id
      limit 1
      for update skip locked
    ) q
    where exists (select 1 from worker)
    limit 1
  ),
  leased as (
    update public.tasks t
    set status = 'leased', leased_by = p_worker_id, leased_at = clock_timestamp(),
        lease_expires_at = clock_timestamp() + make_interval(secs => p_lease_seconds),
        attempts = t.attempts + 1
    from next_task
    where t.id = next_task.id
    returning t.id, t.job_id, t.round, t.shard_index, t.attempts, t.lease_expires_at
  )
  select l.id, l.job_id, l.round, l.shard_index, j.shards, l.attempts, l.lease_expires_at, j.spec
  from leased l join public.jobs j on j.id = l.job_id;

  if not found then
    -- Nothing leased: say why if it is the caller's fault; an empty answer means "no work now"
    -- (or none the worker's bond covers: see wallet_bonds).
    perform internal.assert_my_worker(p_worker_id);
    select * into v_worker from public.workers w where w.id = p_worker_id;
    if v_worker.leases_held >= v_worker.max_concurrency then
      raise exception 'Worker % already holds % of its % leases', p_worker_id, v_worker.leases_held, v_worker.max_concurrency
        using errcode = 'OB011',
              hint = 'Complete or fail a held task before claiming another (or raise p_max_concurrency with register_worker).';
    end if;
  end if;
end
$$;
comment on function public.claim_task(uuid, integer) is
  'Leases the next task to one of the caller''s workers, fairly across jobs, within the worker''s cap and, on chain-funded jobs, within 2 × its payout address''s bond. Empty when there is no work.';

-- ------------------------------------------------------------------ record_chain_events

create function internal.chain_event_fail(p_path text, p_problem text) returns void
language plpgsql immutable set search_path = ''
as $$
begin
  raise exception 'Invalid chain event: % %', p_path, p_problem
    using errcode = 'OB002', detail = p_path,
          hint = 'Each event is {name, txHash, logIndex, blockNumber, blockHash, jobId?, args?, bond?}; hashes and addresses in lower-case hex, amounts as decimal strings of wei.';
end
$$;

-- A field of an event that must be lower-case hex of p_digits digits after 0x (or absent when
-- optional); returns it, or raises naming the field.
create function internal.chain_event_hex(p_value jsonb, p_path text, p_digits integer, p_optional boolean default false)
returns text
language plpgsql immutable set search_path = ''
as $$
begin
  if p_value is null or jsonb_typeof(p_value) = 'null' then
    if p_optional then
      return null;
    end if;
    perform internal.chain_event_fail(p_path, 'is missing');
  end if;
  if jsonb_typeof(p_value) <> 'string' or (p_value #>> '{}') !~ ('^0x[0-9a-f]{' || p_digits || '}$') then
    perform internal.chain_event_fail(p_path, format('must be 0x and %s lower-case hex digits', p_digits));
  end if;
  return p_value #>> '{}';
end
$$;

-- An amount in wei as a decimal string (a uint256 does not fit a JSON number).
create function internal.chain_event_wei(p_value jsonb, p_path text) returns text
language plpgsql immutable set search_path = ''
as $$
begin
  if jsonb_typeof(p_value) is distinct from 'string' or (p_value #>> '{}') !~ '^(0|[1-9][0-9]{0,77})$' then
    perform internal.chain_event_fail(p_path, 'must be an amount of wei as a decimal string, e.g. "1000000000000000000"');
  end if;
  return p_value #>> '{}';
end
$$;

-- A whole number ≥ 0 (block numbers, log indexes, unix seconds).
create function internal.chain_event_count(p_value jsonb, p_path text) returns bigint
language plpgsql immutable set search_path = ''
as $$
begin
  if jsonb_typeof(p_value) is distinct from 'number' or (p_value #>> '{}') !~ '^(0|[1-9][0-9]{0,17})$' then
    perform internal.chain_event_fail(p_path, 'must be a whole number ≥ 0');
  end if;
  return (p_value #>> '{}')::bigint;
end
$$;

-- Revokes a job's queued and leased tasks (as cancel_job and fail_job do) and ends it.
create function internal.end_job_from_chain(p_job public.jobs, p_status public.job_status, p_reason text) returns void
language plpgsql set search_path = ''
as $$
begin
  update public.tasks t
  set status = 'cancelled', lease_expires_at = null, finished_at = clock_timestamp(),
      last_error = case p_status when 'cancelled' then 'job cancelled' else 'job expired' end
  where t.job_id = p_job.id and t.status in ('queued', 'leased');
  update public.jobs j set status = p_status, status_reason = p_reason where j.id = p_job.id;
end
$$;

create function public.record_chain_events(p_chain_id bigint, p_contract_address text, p_events jsonb, p_last_block bigint)
returns integer
language plpgsql security definer set search_path = ''
as $$
declare
  v_contract text := lower(p_contract_address);
  v_event jsonb;
  v_index bigint;
  v_path text;
  v_name text;
  v_tx_hash text;
  v_log_index bigint;
  v_block bigint;
  v_block_hash text;
  v_args jsonb;
  v_bond jsonb;
  v_job_id uuid;
  v_job public.jobs;
  v_inserted integer := 0;
  v_event_id bigint;
  v_amount text;
  v_root text;
  v_total text;
  v_unlock bigint;
begin
  if p_chain_id is null or p_chain_id <= 0 then
    raise exception 'p_chain_id must be a positive chain id (got %)', coalesce(p_chain_id::text, 'nothing')
      using errcode = 'OB002', detail = 'p_chain_id', hint = 'The EVM chain id the events come from, e.g. 8119.';
  end if;
  if v_contract is null or v_contract !~ '^0x[0-9a-f]{40}$' then
    raise exception 'p_contract_address must be an EVM address, 0x and 40 hex digits (got %)', coalesce('"' || left(p_contract_address, 80) || '"', 'nothing')
      using errcode = 'OB002', detail = 'p_contract_address';
  end if;
  if p_last_block is null or p_last_block < 0 then
    raise exception 'p_last_block must be a block number ≥ 0 (got %)', coalesce(p_last_block::text, 'nothing')
      using errcode = 'OB002', detail = 'p_last_block', hint = 'The last block the coordinator read events up to (inclusive).';
  end if;
  if jsonb_typeof(p_events) is distinct from 'array' or jsonb_array_length(p_events) > 1000 then
    raise exception 'p_events must be a JSON array of at most 1000 events'
      using errcode = 'OB002', detail = 'p_events', hint = 'Send the logs of a block range in batches of at most 1000.';
  end if;

  for v_event, v_index in select e, i - 1 from jsonb_array_elements(p_events) with ordinality as x(e, i) loop
    v_path := format('p_events[%s]', v_index);
    if jsonb_typeof(v_event) <> 'object' then
      perform internal.chain_event_fail(v_path, 'must be an object');
    end if;
    if jsonb_typeof(v_event -> 'name') is distinct from 'string' or (v_event ->> 'name') !~ '^[A-Z][A-Za-z0-9]{0,63}$' then
      perform internal.chain_event_fail(v_path || '.name', 'must be the event''s name, e.g. "JobFunded"');
    end if;
    v_name := v_event ->> 'name';
    v_tx_hash := internal.chain_event_hex(v_event -> 'txHash', v_path || '.txHash', 64);
    v_block_hash := internal.chain_event_hex(v_event -> 'blockHash', v_path || '.blockHash', 64);
    v_log_index := internal.chain_event_count(v_event -> 'logIndex', v_path || '.logIndex');
    v_block := internal.chain_event_count(v_event -> 'blockNumber', v_path || '.blockNumber');
    if v_log_index > 2147483647 then
      perform internal.chain_event_fail(v_path || '.logIndex', 'is too large');
    end if;
    v_args := coalesce(v_event -> 'args', '{}'::jsonb);
    if jsonb_typeof(v_args) <> 'object' then
      perform internal.chain_event_fail(v_path || '.args', 'must be an object');
    end if;
    v_job_id := null;
    if v_event ? 'jobId' and jsonb_typeof(v_event -> 'jobId') <> 'null' then
      if jsonb_typeof(v_event -> 'jobId') <> 'string'
         or (v_event ->> 'jobId') !~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
        perform internal.chain_event_fail(v_path || '.jobId', 'must be the job''s uuid (lower case)');
      end if;
      v_job_id := (v_event ->> 'jobId')::uuid;
    end if;
    -- Check the fields each effect reads before anything is stored: a bad batch stores nothing.
    if v_name = 'JobFunded' then
      v_amount := internal.chain_event_wei(v_args -> 'amount', v_path || '.args.amount');
      perform internal.chain_event_hex(v_args -> 'jobIdHex', v_path || '.args.jobIdHex', 64, true);
    elsif v_name = 'JobSettled' then
      v_root := internal.chain_event_hex(v_args -> 'payoutRoot', v_path || '.args.payoutRoot', 64);
      v_total := internal.chain_event_wei(v_args -> 'totalPayout', v_path || '.args.totalPayout');
      perform internal.chain_event_hex(v_args -> 'metricsHash', v_path || '.args.metricsHash', 64, true);
    end if;
    v_bond := v_event -> 'bond';
    if v_bond is not null and jsonb_typeof(v_bond) <> 'null' then
      if jsonb_typeof(v_bond) <> 'object' then
        perform internal.chain_event_fail(v_path || '.bond', 'must be {address, bonded, unbonding, unlockAt}');
      end if;
      perform internal.chain_event_hex(v_bond -> 'address', v_path || '.bond.address', 40);
      perform internal.chain_event_wei(v_bond -> 'bonded', v_path || '.bond.bonded');
      perform internal.chain_event_wei(v_bond -> 'unbonding', v_path || '.bond.unbonding');
      v_unlock := null;
      if jsonb_typeof(v_bond -> 'unlockAt') is distinct from 'null' and v_bond ? 'unlockAt' then
        v_unlock := internal.chain_event_count(v_bond -> 'unlockAt', v_path || '.bond.unlockAt');
      end if;
    else
      v_bond := null;
    end if;

    -- Stored once: a batch read again (a restart, an overlapping range) inserts nothing and
    -- changes nothing below.
    insert into public.chain_events
      (chain_id, block_number, block_hash, tx_hash, log_index, contract_address, event_name, args, job_id)
    values (p_chain_id, v_block, v_block_hash, v_tx_hash, v_log_index::integer, v_contract, v_name, v_args,
            (select j.id from public.jobs j where j.id = v_job_id))
    on conflict (chain_id, tx_hash, log_index) do nothing
    returning id into v_event_id;
    if v_event_id is null then
      continue;
    end if;
    v_inserted := v_inserted + 1;

    if v_job_id is not null and v_name in ('JobFunded', 'JobCancelled', 'JobExpired', 'JobSettled') then
      select * into v_job from public.jobs j where j.id = v_job_id for update;
      if found then
        if v_name = 'JobFunded' and v_job.status = 'created' then
          if v_amount::numeric >= v_job.reward_wei::numeric then
            update public.jobs j
            set status = 'funded', chain_id = p_chain_id,
                chain_job_id = coalesce(v_args ->> 'jobIdHex', j.chain_job_id),
                escrow_tx_hash = v_tx_hash,
                status_reason = format('escrow funded on chain %s', p_chain_id)
            where j.id = v_job_id;
          else
            update public.jobs j
            set status_reason = format('escrow of %s wei on chain %s is below the reward of %s wei; the job stays unfunded',
                                       v_amount, p_chain_id, v_job.reward_wei)
            where j.id = v_job_id;
          end if;
        elsif v_name = 'JobCancelled' and v_job.status in ('created', 'funded', 'running', 'aggregating') then
          perform internal.end_job_from_chain(v_job, 'cancelled', 'escrow refunded on chain (cancelled by its creator)');
        elsif v_name = 'JobExpired' and v_job.status in ('funded', 'running', 'aggregating') then
          perform internal.end_job_from_chain(v_job, 'expired', 'escrow expired on chain');
        elsif v_name = 'JobSettled' then
          update public.settlements s
          set chain_id = p_chain_id, status = 'confirmed', merkle_root = v_root, total_wei = v_total,
              metrics_hash = coalesce(v_args ->> 'metricsHash', s.metrics_hash),
              tx_hash = v_tx_hash, block_number = v_block, confirmed_at = now(), last_error = null
          where s.id = (select max(x.id) from public.settlements x where x.job_id = v_job_id);
          if not found then
            insert into public.settlements
              (job_id, chain_id, status, merkle_root, total_wei, metrics_hash, tx_hash, block_number, confirmed_at)
            values (v_job_id, p_chain_id, 'confirmed', v_root, v_total, v_args ->> 'metricsHash', v_tx_hash, v_block, now());
          end if;
        end if;
      end if;
    end if;

    if v_bond is not null then
      insert into public.wallet_bonds as b (chain_id, address, bonded_wei, unbonding_wei, unlock_at, block_number)
      values (p_chain_id, v_bond ->> 'address', v_bond ->> 'bonded', v_bond ->> 'unbonding',
              case when v_unlock is not null and v_unlock > 0 then to_timestamp(v_unlock) end, v_block)
      on conflict (chain_id, address) do update
        set bonded_wei = excluded.bonded_wei, unbonding_wei = excluded.unbonding_wei, unlock_at = excluded.unlock_at,
            block_number = excluded.block_number, updated_at = now()
        where excluded.block_number >= b.block_number;
    end if;
  end loop;

  insert into public.chain_cursors as c (chain_id, contract_address, last_block)
  values (p_chain_id, v_contract, p_last_block)
  on conflict (chain_id, contract_address) do update
    set last_block = greatest(c.last_block, excluded.last_block), updated_at = now();
  return v_inserted;
end
$$;
comment on function public.record_chain_events(bigint, text, jsonb, bigint) is
  'Coordinator only: mirrors a batch of OblivionSettlement events (one transaction): stores each once by chain/tx/log and, the first time only, funds, cancels or expires its job, confirms its settlement and updates the wallet''s bond; moves the contract''s cursor forward. Returns how many events were new.';

revoke all on function internal.chain_event_fail(text, text), internal.chain_event_hex(jsonb, text, integer, boolean),
  internal.chain_event_wei(jsonb, text), internal.chain_event_count(jsonb, text),
  internal.end_job_from_chain(public.jobs, public.job_status, text) from public;
revoke all on function public.record_chain_events(bigint, text, jsonb, bigint) from public, anon, authenticated;
grant execute on function public.record_chain_events(bigint, text, jsonb, bigint) to service_role;
