-- Jobs: created by their owner through create_job, cancelled through cancel_job, moved through
-- rounds by the coordinator (service_role) through enqueue_round. A trigger guards the status
-- machine whoever writes it.
--
-- Error codes (SQLSTATE, stable; PostgREST answers them with HTTP 400):
--   OB001 not signed in            OB002 invalid argument        OB003 invalid job spec
--   OB004 invalid reward           OB010 worker not yours        OB011 worker at its lease cap
--   OB020 job not found/not yours  OB021 job in the wrong state  OB030 task not held by you
--   OB031 invalid task result

create function internal.require_user() returns uuid
language plpgsql stable set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
begin
  if v_uid is null then
    raise exception 'This call needs a signed-in user'
      using errcode = 'OB001', hint = 'Sign in (anonymously or with Ethereum) and call again with the session''s access token.';
  end if;
  return v_uid;
end
$$;

create function internal.check_job_transition() returns trigger
language plpgsql set search_path = ''
as $$
declare
  v_allowed text[] := case old.status
    when 'created' then array['funded', 'cancelled']
    when 'funded' then array['running', 'cancelled', 'expired']
    when 'running' then array['aggregating', 'completed', 'failed', 'cancelled', 'expired']
    when 'aggregating' then array['running', 'completed', 'failed', 'cancelled', 'expired']
    else array[]::text[]
  end;
begin
  new.updated_at := now();
  if new.status is distinct from old.status then
    if not (new.status::text = any (v_allowed)) then
      raise exception 'Job % cannot go from % to %', old.id, old.status, new.status
        using errcode = 'OB021',
              hint = case when cardinality(v_allowed) = 0 then format('A %s job is final.', old.status)
                          else format('From %s a job can go to: %s.', old.status, array_to_string(v_allowed, ', ')) end;
    end if;
    if new.status = 'running' and new.started_at is null then
      new.started_at := now();
    end if;
    if new.status in ('completed', 'failed', 'cancelled', 'expired') then
      new.finished_at := now();
    end if;
  end if;
  return new;
end
$$;

create trigger jobs_check_status_transition
  before update on public.jobs
  for each row execute function internal.check_job_transition();

create function public.create_job(p_spec jsonb, p_reward_wei text, p_kind public.job_kind default 'training')
returns public.jobs
language plpgsql security definer set search_path = ''
as $$
declare
  v_uid uuid := internal.require_user();
  v_job public.jobs;
begin
  if p_reward_wei is null or p_reward_wei !~ '^[1-9][0-9]{0,77}$' then
    raise exception 'Invalid reward: % is not a positive whole number of wei', coalesce('"' || left(p_reward_wei, 80) || '"', 'nothing')
      using errcode = 'OB004', detail = 'p_reward_wei',
            hint = 'Give the reward in wei as a decimal string without sign, decimals or exponent, e.g. "1000000000000000000" for 1 SHM.';
  end if;
  perform internal.validate_job_spec(p_spec);
  insert into public.jobs (owner_id, kind, spec, reward_wei, rounds, shards, privacy_delta)
  values (
    v_uid, coalesce(p_kind, 'training'), p_spec, p_reward_wei,
    (p_spec #>> '{training,rounds}')::integer,
    (p_spec #>> '{training,shards}')::integer,
    (p_spec #>> '{privacy,delta}')::double precision
  )
  returning * into v_job;
  return v_job;
end
$$;
comment on function public.create_job(jsonb, text, public.job_kind) is
  'Creates a job owned by the caller from a validated spec (errors name the bad field). The job waits in status created until its escrow is funded.';

create function public.cancel_job(p_job_id uuid, p_reason text default null)
returns public.jobs
language plpgsql security definer set search_path = ''
as $$
declare
  v_uid uuid := internal.require_user();
  v_job public.jobs;
begin
  select * into v_job from public.jobs j where j.id = p_job_id and j.owner_id = v_uid for update;
  if not found then
    raise exception 'Job % is not one of your jobs', p_job_id
      using errcode = 'OB020', hint = 'Check the job id; only its owner can cancel a job.';
  end if;
  if v_job.status = 'cancelled' then
    return v_job; -- cancelling twice is not an error
  end if;
  if v_job.status in ('completed', 'failed', 'expired') then
    raise exception 'Job % is already %; only an unfinished job can be cancelled', p_job_id, v_job.status
      using errcode = 'OB021', hint = 'Nothing to do: the job has ended.';
  end if;
  -- Revoke every lease: holders learn it from their next heartbeat and drop the work.
  update public.tasks t
  set status = 'cancelled', lease_expires_at = null, finished_at = clock_timestamp(), last_error = 'job cancelled'
  where t.job_id = p_job_id and t.status in ('queued', 'leased');
  update public.jobs j
  set status = 'cancelled', status_reason = coalesce(left(nullif(btrim(p_reason), ''), 500), 'cancelled by its owner')
  where j.id = p_job_id
  returning * into v_job;
  return v_job;
end
$$;
comment on function public.cancel_job(uuid, text) is
  'Cancels one of the caller''s unfinished jobs and revokes its queued and leased tasks. Idempotent.';

create function public.enqueue_round(p_job_id uuid)
returns integer
language plpgsql security definer set search_path = ''
as $$
declare
  v_job public.jobs;
begin
  select * into v_job from public.jobs j where j.id = p_job_id for update;
  if not found then
    raise exception 'Job % does not exist', p_job_id using errcode = 'OB020';
  end if;
  if v_job.status not in ('funded', 'aggregating') then
    raise exception 'Job % is %; a round starts only when the job is funded or its previous round is aggregated', p_job_id, v_job.status
      using errcode = 'OB021';
  end if;
  if v_job.current_round >= v_job.rounds then
    raise exception 'Job % has already run all % rounds', p_job_id, v_job.rounds
      using errcode = 'OB021', hint = 'Complete the job instead of starting another round.';
  end if;
  update public.jobs j set status = 'running', current_round = j.current_round + 1 where j.id = p_job_id;
  insert into public.tasks (job_id, round, shard_index)
  select p_job_id, v_job.current_round + 1, s from generate_series(0, v_job.shards - 1) s;
  return v_job.shards;
end
$$;
comment on function public.enqueue_round(uuid) is
  'Coordinator only: starts the next round of a funded (or aggregated) job by queueing one task per shard. Returns the number of tasks.';

revoke all on function internal.require_user() from public;
revoke all on function public.create_job(jsonb, text, public.job_kind), public.cancel_job(uuid, text),
  public.enqueue_round(uuid) from public, anon;
grant execute on function public.create_job(jsonb, text, public.job_kind), public.cancel_job(uuid, text) to authenticated;
grant execute on function public.enqueue_round(uuid) to service_role;
