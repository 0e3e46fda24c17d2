-- Workers: register, heartbeat, claim, complete, fail; and the reaper of expired leases.
-- Lock order, which keeps these free of deadlocks: heartbeat/complete/fail/reap lock task rows
-- first and the worker row last (through the lease trigger); claim_task locks the worker row
-- first but never waits on a task row (SKIP LOCKED), so no cycle can form.

-- workers.leases_held is the lease cap's source of truth. claim_task checks it with
-- `select … for update`: under READ COMMITTED a claim that waited for the row re-checks
-- `leases_held < max_concurrency` on the newest version, so two claims of one worker on two
-- connections cannot both take the last slot. (Counting leased tasks inside the claim would
-- read the statement's older snapshot and let both through.)
create function internal.track_worker_leases() returns trigger
language plpgsql set search_path = ''
as $$
begin
  if tg_op in ('UPDATE', 'DELETE') and old.status = 'leased' then
    update public.workers w
    set leases_held = w.leases_held - 1,
        tasks_completed = w.tasks_completed + (tg_op = 'UPDATE' and new.status = 'completed')::integer,
        tasks_failed = w.tasks_failed + (tg_op = 'UPDATE' and new.status in ('queued', 'failed'))::integer
    where w.id = old.leased_by;
  end if;
  if tg_op in ('UPDATE', 'INSERT') and new.status = 'leased' then
    update public.workers w
    set leases_held = w.leases_held + 1, last_seen_at = now()
    where w.id = new.leased_by;
  end if;
  return null;
end
$$;

create trigger tasks_track_worker_leases
  after update of status, leased_by on public.tasks
  for each row
  when (old.status is distinct from new.status or old.leased_by is distinct from new.leased_by)
  execute function internal.track_worker_leases();
create trigger tasks_track_worker_leases_on_insert
  after insert on public.tasks
  for each row when (new.status = 'leased') execute function internal.track_worker_leases();
create trigger tasks_track_worker_leases_on_delete
  after delete on public.tasks
  for each row when (old.status = 'leased') execute function internal.track_worker_leases();

create function internal.assert_my_worker(p_worker_id uuid) returns void
language plpgsql stable set search_path = ''
as $$
begin
  if not exists (select 1 from public.workers w where w.id = p_worker_id and w.owner_id = internal.require_user()) then
    raise exception 'Worker % is not registered to you', p_worker_id
      using errcode = 'OB010', hint = 'Call register_worker while signed in and use the id it returns.';
  end if;
end
$$;

create function internal.assert_lease_seconds(p_lease_seconds integer) returns void
language plpgsql immutable set search_path = ''
as $$
begin
  if p_lease_seconds is null or p_lease_seconds not between 1 and 3600 then
    raise exception 'p_lease_seconds must be between 1 and 3600 (got %)', coalesce(p_lease_seconds::text, 'nothing')
      using errcode = 'OB002', detail = 'p_lease_seconds',
            hint = 'Heartbeat at least every third of the lease; the default lease is 60 s with a 15 s heartbeat.';
  end if;
end
$$;

-- The error for a task the caller does not hold (or that does not exist), saying why, so the
-- worker knows to drop it. p_task is null when no task has the id.
create function internal.raise_not_held(p_task_id bigint, p_task public.tasks, p_worker_id uuid) returns void
language plpgsql immutable set search_path = ''
as $$
begin
  if p_task.id is null then
    raise exception 'Task % does not exist', p_task_id
      using errcode = 'OB030', hint = 'Use the task id that claim_task returned.';
  end if;
  raise exception 'Worker % does not hold task %: %', p_worker_id, p_task.id,
    case
      when p_task.status = 'leased' and p_task.leased_by is distinct from p_worker_id then 'another worker holds its lease'
      when p_task.status = 'cancelled' then 'its job was cancelled'
      when p_task.leased_by is distinct from p_worker_id then format('it is %s and was never leased to this worker', p_task.status)
      when p_task.status = 'completed' then 'it is already completed'
      else format('the lease ended and the task is now %s', p_task.status)
    end
    using errcode = 'OB030', hint = 'Drop this task and claim another with claim_task.';
end
$$;

-- 5 s, 10 s, 20 s … capped at 5 min, with ±20 % jitter so a burst of failures does not come
-- back in lockstep.
create function internal.retry_delay(p_attempts integer) returns interval
language sql volatile set search_path = ''
as $$
  select make_interval(secs => least(300, 5 * power(2, greatest(p_attempts, 1) - 1)) * (0.8 + random() * 0.4))
$$;

create function public.register_worker(
  p_name text,
  p_kind public.worker_kind,
  p_capabilities jsonb default '{}'::jsonb,
  p_max_concurrency integer default 2
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
  insert into public.workers as w (owner_id, name, kind, capabilities, max_concurrency)
  values (v_uid, p_name, p_kind, p_capabilities, p_max_concurrency)
  on conflict (owner_id, name) do update
    set kind = excluded.kind, capabilities = excluded.capabilities,
        max_concurrency = excluded.max_concurrency, last_seen_at = now()
  returning * into v_worker;
  return v_worker;
end
$$;
comment on function public.register_worker(text, public.worker_kind, jsonb, integer) is
  'Registers (or updates, by name) one of the caller''s workers and returns it.';

create function public.heartbeat(p_worker_id uuid, p_lease_seconds integer default 60)
returns table (task_id bigint, lease_expires_at timestamptz)
language plpgsql security definer set search_path = ''
as $$
#variable_conflict use_column
begin
  perform internal.assert_my_worker(p_worker_id);
  perform internal.assert_lease_seconds(p_lease_seconds);
  return query
    update public.tasks t
    set lease_expires_at = clock_timestamp() + make_interval(secs => p_lease_seconds)
    where t.leased_by = p_worker_id and t.status = 'leased'
    returning t.id, t.lease_expires_at;
  update public.workers w set last_seen_at = now() where w.id = p_worker_id;
end
$$;
comment on function public.heartbeat(uuid, integer) is
  'Marks the worker alive and renews all its leases; returns the tasks it still holds (drop any other).';

create function public.reap_expired_leases()
returns integer
language plpgsql security definer set search_path = ''
as $$
declare
  v_reaped integer;
begin
  -- One reaper at a time; a concurrent caller returns at once (claim_task reaps lazily).
  if not pg_try_advisory_xact_lock(2026112202) then
    return 0;
  end if;
  -- An expired lease means a dead or stalled worker, not a bad task: requeue at once (no
  -- backoff) but count the attempt, so a task that kills every worker still ends.
  with expired as (
    select t.id from public.tasks t
    where t.status = 'leased' and t.lease_expires_at < now() -- now(): indexable, see claim_task
    order by t.lease_expires_at
    limit 1000
    for update skip locked
  ), reaped as (
    update public.tasks t
    set status = case when t.attempts >= t.max_attempts then 'failed'::public.task_status else 'queued' end,
        -- now() (transaction start), not clock_timestamp(): the claim that reaped lazily
        -- filters on run_after <= now() and must be able to take the task in the same call.
        run_after = now(),
        last_error = format('lease expired at %s while held by worker %s (attempt %s of %s)',
                            t.lease_expires_at, t.leased_by, t.attempts, t.max_attempts),
        lease_expires_at = null,
        finished_at = case when t.attempts >= t.max_attempts then clock_timestamp() end
    from expired
    where t.id = expired.id
    returning t.id, t.job_id, t.round, t.shard_index, t.status, t.last_error
  ), marked_jobs as (
    update public.jobs j
    set tasks_failed = j.tasks_failed + f.failed,
        status_reason = f.reason
    from (
      select r.job_id, count(*)::integer as failed,
             max(format('Task %s (round %s, shard %s) failed permanently: %s', r.id, r.round, r.shard_index, r.last_error)) as reason
      from reaped r where r.status = 'failed' group by r.job_id
    ) f
    where j.id = f.job_id
  )
  select count(*) into v_reaped from reaped;
  return v_reaped;
end
$$;
comment on function public.reap_expired_leases() is
  'Requeues tasks whose lease expired (or fails them past max_attempts). claim_task runs it lazily, so no cron is needed.';

create function public.claim_task(p_worker_id uuid, p_lease_seconds integer default 60)
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
  -- job cannot starve a small one; take the first queued task of the first job that has one
  -- free (SKIP LOCKED: concurrent claims pass each other instead of queueing); (3) lease it.
  return query
  with worker as materialized (
    select w.id
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
    -- Nothing leased: say why if it is the caller's fault; an empty answer means "no work now".
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
  'Leases the next task to one of the caller''s workers, fairly across jobs, within the worker''s cap. Empty when there is no work.';

create function public.complete_task(p_task_id bigint, p_worker_id uuid, p_result jsonb)
returns public.tasks
language plpgsql security definer set search_path = ''
as $$
declare
  v_uid uuid := internal.require_user();
  v_task public.tasks;
begin
  if p_result is null or jsonb_typeof(p_result) <> 'object'
     or jsonb_typeof(p_result -> 'artifact_cid') is distinct from 'string'
     or (p_result ->> 'artifact_cid') !~ '^b[a-z2-7]{50,100}$'
     or jsonb_typeof(p_result -> 'sample_count') is distinct from 'number'
     or (p_result ->> 'sample_count') !~ '^[1-9][0-9]{0,8}$'
     or (p_result ? 'metrics' and jsonb_typeof(p_result -> 'metrics') <> 'object')
     or (p_result ? 'update_norm' and (jsonb_typeof(p_result -> 'update_norm') <> 'number' or (p_result ->> 'update_norm')::numeric < 0))
     or (p_result ? 'epsilon_spent' and (jsonb_typeof(p_result -> 'epsilon_spent') <> 'number' or (p_result ->> 'epsilon_spent')::numeric < 0))
     or (p_result ? 'artifact_path' and (jsonb_typeof(p_result -> 'artifact_path') <> 'string' or length(p_result ->> 'artifact_path') not between 1 and 1024))
     or octet_length(p_result::text) > 16384 then
    raise exception 'Invalid task result for task %', p_task_id
      using errcode = 'OB031', detail = 'p_result',
            hint = 'Send {"artifact_cid": CIDv1 base32, "sample_count": positive integer, "artifact_path"?, "metrics"?: object, "update_norm"?: number ≥ 0, "epsilon_spent"?: number ≥ 0}, at most 16 KiB.';
  end if;

  -- The fast path, one statement: lock the task only if the caller's own worker holds its
  -- lease, store the result, complete the task. (Five statements before: ~30 % of the
  -- server time of a claim+complete cycle.)
  with held as (
    select t.id, t.job_id, t.round
    from public.tasks t
    join public.workers w on w.id = t.leased_by
    where t.id = p_task_id and t.status = 'leased' and t.leased_by = p_worker_id and w.owner_id = v_uid
    for update of t
  ), stored as (
    insert into public.task_results
      (task_id, job_id, worker_id, round, artifact_cid, artifact_path, sample_count, metrics, update_norm, epsilon_spent)
    select held.id, held.job_id, p_worker_id, held.round,
           p_result ->> 'artifact_cid', p_result ->> 'artifact_path', (p_result ->> 'sample_count')::integer,
           coalesce(p_result -> 'metrics', '{}'::jsonb),
           (p_result ->> 'update_norm')::double precision, (p_result ->> 'epsilon_spent')::double precision
    from held
    returning id, task_id
  )
  update public.tasks t
  set status = 'completed', result_id = stored.id, finished_at = clock_timestamp(), lease_expires_at = null
  from stored
  where t.id = stored.task_id
  returning t.* into v_task;
  if found then
    return v_task;
  end if;

  -- Not completed: a retried completion (the first result stands), or say why not.
  perform internal.assert_my_worker(p_worker_id);
  select * into v_task from public.tasks t where t.id = p_task_id;
  if v_task.status = 'completed' and v_task.leased_by = p_worker_id then
    return v_task;
  end if;
  perform internal.raise_not_held(p_task_id, v_task, p_worker_id);
  return null; -- not reached: raise_not_held always raises
end
$$;
comment on function public.complete_task(bigint, uuid, jsonb) is
  'The lease holder delivers its result and completes the task. Retrying a completion returns the task unchanged.';

create function public.fail_task(p_task_id bigint, p_worker_id uuid, p_reason text, p_retryable boolean default true)
returns public.tasks
language plpgsql security definer set search_path = ''
as $$
declare
  v_task public.tasks;
  v_final boolean;
begin
  perform internal.assert_my_worker(p_worker_id);
  if p_reason is null or btrim(p_reason) = '' then
    raise exception 'fail_task needs a reason'
      using errcode = 'OB002', detail = 'p_reason', hint = 'Say what went wrong, e.g. "out of memory while training"; it is shown to the job owner.';
  end if;
  select * into v_task from public.tasks t where t.id = p_task_id for update;
  if v_task.leased_by = p_worker_id and v_task.status in ('queued', 'failed') then
    return v_task; -- a retried failure (or a lease that already expired): nothing more to do
  end if;
  if v_task.status is distinct from 'leased' or v_task.leased_by is distinct from p_worker_id then
    perform internal.raise_not_held(p_task_id, v_task, p_worker_id);
  end if;
  v_final := not coalesce(p_retryable, true) or v_task.attempts >= v_task.max_attempts;
  update public.tasks t
  set status = case when v_final then 'failed'::public.task_status else 'queued' end,
      last_error = left(p_reason, 2000),
      lease_expires_at = null,
      run_after = case when v_final then t.run_after else clock_timestamp() + internal.retry_delay(t.attempts) end,
      finished_at = case when v_final then clock_timestamp() end
  where t.id = p_task_id
  returning * into v_task;
  if v_final then
    update public.jobs j
    set tasks_failed = j.tasks_failed + 1,
        status_reason = format('Task %s (round %s, shard %s) failed after %s attempt(s): %s',
                               v_task.id, v_task.round, v_task.shard_index, v_task.attempts, left(p_reason, 500))
    where j.id = v_task.job_id;
  end if;
  return v_task;
end
$$;
comment on function public.fail_task(bigint, uuid, text, boolean) is
  'The lease holder gives a task back with a reason: requeued with backoff, or failed for good past max_attempts (or when not retryable); the job counts permanent failures.';

revoke all on function internal.track_worker_leases(), internal.assert_my_worker(uuid),
  internal.assert_lease_seconds(integer), internal.raise_not_held(bigint, public.tasks, uuid),
  internal.retry_delay(integer) from public;
revoke all on function public.register_worker(text, public.worker_kind, jsonb, integer),
  public.heartbeat(uuid, integer), public.reap_expired_leases(), public.claim_task(uuid, integer),
  public.complete_task(bigint, uuid, jsonb), public.fail_task(bigint, uuid, text, boolean) from public, anon;
grant execute on function public.register_worker(text, public.worker_kind, jsonb, integer),
  public.heartbeat(uuid, integer), public.claim_task(uuid, integer),
  public.complete_task(bigint, uuid, jsonb), public.fail_task(bigint, uuid, text, boolean) to authenticated;
grant execute on function public.reap_expired_leases() to service_role;
