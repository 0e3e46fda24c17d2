-- The coordinator's RPCs (service_role only): fund a job, run its rounds, judge the uploaded
-- updates, record each aggregate and finish the job with its model. One round, as the
-- coordinator drives it:
--
--   start_round(job, cid, key)      queue one task per shard; the round's job_rounds row (training)
--     … workers claim_task, train, upload to Storage, complete_task …
--   begin_round_aggregation(job)    once no task of the round is queued or leased: running →
--                                   aggregating, returns the round's accepted results
--     reject_task_result(task, why) a bad update: its task is retried (job back to running)
--     requeue_failed_tasks(job)     too few shards delivered: retry the failed ones (once a round)
--   finish_round(job, acc, loss, ε, metrics)   the aggregate's numbers; job_rounds → aggregated
--   start_round(…) again, or complete_job(job, model) after the last round; fail_job(job, why)
--   gives up.
--
-- Every function locks the job row first, then its tasks (the order cancel_job and
-- enqueue_round use), so two coordinator calls on one job run one after the other.

-- A funded job the coordinator cannot start (its data set is missing, its first upload fails)
-- may now fail too: funded → failed joins the allowed transitions.
create or replace function internal.check_job_transition() returns trigger
language plpgsql set search_path = ''
as $$
declare
  v_allowed text[] := case old.status
    when 'created' then array['funded', 'cancelled']
    when 'funded' then array['running', 'failed', 'cancelled', 'expired']
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

-- The job, locked for the rest of the transaction; OB020 when there is none.
create function internal.lock_job(p_job_id uuid) returns public.jobs
language plpgsql set search_path = ''
as $$
declare
  v_job public.jobs;
begin
  select * into v_job from public.jobs j where j.id = p_job_id for update;
  if not found then
    raise exception 'Job % does not exist', coalesce(p_job_id::text, 'null')
      using errcode = 'OB020', detail = 'p_job_id', hint = 'Check the job id (public.jobs.id).';
  end if;
  return v_job;
end
$$;

-- The job_rounds row of the job's current round, locked; null when the round has none (it was
-- started with enqueue_round rather than start_round, or no round started yet).
create function internal.lock_current_round(p_job public.jobs) returns public.job_rounds
language sql set search_path = ''
as $$
  select r.* from public.job_rounds r
  where r.job_id = p_job.id and r.round = p_job.current_round
  for update
$$;

create function internal.assert_reason(p_reason text) returns text
language plpgsql immutable set search_path = ''
as $$
begin
  if p_reason is null or btrim(p_reason) = '' then
    raise exception 'p_reason is required'
      using errcode = 'OB002', detail = 'p_reason',
            hint = 'Say what happened in words, e.g. "update has NaN weights"; the job owner and the worker see it.';
  end if;
  return left(btrim(p_reason), 2000);
end
$$;

-- ------------------------------------------------------------------ funding

create function public.fund_job_without_escrow(p_job_id uuid)
returns public.jobs
language plpgsql security definer set search_path = ''
as $$
declare
  v_job public.jobs := internal.lock_job(p_job_id);
begin
  if v_job.status = 'funded' then
    return v_job; -- funding twice is not an error
  end if;
  if v_job.status <> 'created' then
    raise exception 'Job % is %; only a created job can be funded', p_job_id, v_job.status
      using errcode = 'OB021', hint = 'Nothing to fund: the job was funded before and has moved on, or it has ended.';
  end if;
  update public.jobs j
  set status = 'funded', status_reason = 'funded without escrow (local network; on-chain escrow arrives with settlement)'
  where j.id = p_job_id
  returning * into v_job;
  return v_job;
end
$$;
comment on function public.fund_job_without_escrow(uuid) is
  'Coordinator only: marks a created job funded without an on-chain escrow (local network). Idempotent for a funded job.';

-- ------------------------------------------------------------------ rounds

create function public.start_round(p_job_id uuid, p_global_model_cid text, p_global_model_path text)
returns public.job_rounds
language plpgsql security definer set search_path = ''
as $$
declare
  v_job public.jobs := internal.lock_job(p_job_id);
  v_previous public.job_rounds;
  v_round public.job_rounds;
begin
  if p_global_model_cid is null or p_global_model_cid !~ '^b[a-z2-7]{50,100}$' then
    raise exception 'p_global_model_cid must be a CIDv1 in base32 (got %)', coalesce('"' || left(p_global_model_cid, 120) || '"', 'nothing')
      using errcode = 'OB002', detail = 'p_global_model_cid',
            hint = 'Pass the content id of the global weights the round starts from, e.g. bafkrei… (sha-256, raw codec).';
  end if;
  if p_global_model_path is null or length(p_global_model_path) not between 1 and 1024
     or not starts_with(p_global_model_path, format('jobs/%s/', p_job_id)) then
    raise exception 'p_global_model_path must be an object key under jobs/%/ in the artifacts bucket (got %)',
      p_job_id, coalesce('"' || left(p_global_model_path, 120) || '"', 'nothing')
      using errcode = 'OB002', detail = 'p_global_model_path',
            hint = format('Upload the weights to jobs/%s/rounds/%s/global.obw in the artifacts bucket and pass that key: the job''s workers may read only under jobs/%s/.',
                          p_job_id, v_job.current_round + 1, p_job_id);
  end if;
  v_previous := internal.lock_current_round(v_job);
  if v_previous.status = 'training' then
    raise exception 'Round % of job % is not finished', v_job.current_round, p_job_id
      using errcode = 'OB021', hint = 'Close it with begin_round_aggregation and record its aggregate with finish_round, then start the next round.';
  end if;
  perform public.enqueue_round(p_job_id); -- checks the job's status and its rounds left
  insert into public.job_rounds (job_id, round, global_model_cid, global_model_path)
  values (p_job_id, v_job.current_round + 1, p_global_model_cid, p_global_model_path)
  returning * into v_round;
  return v_round;
end
$$;
comment on function public.start_round(uuid, text, text) is
  'Coordinator only: starts the next round of a funded (or aggregated) job from the given global weights: queues one task per shard (enqueue_round) and records the round in job_rounds.';

-- The round closes when none of its tasks is queued or leased: each one completed, failed for
-- good (max_attempts, or not retryable) or was cancelled. A lease that expired on its last
-- attempt counts as failed (the reaper would fail it; here it is failed as the round closes);
-- one that expired with attempts left counts as open (it will be requeued). Whether enough
-- shards delivered (spec.training.minShardFraction, default 1: all) is the coordinator's call
-- on what this returns: it may requeue_failed_tasks once, or fail_job.
create function public.begin_round_aggregation(p_job_id uuid)
returns table (
  result_id bigint, task_id bigint, round integer, shard_index integer, worker_id uuid,
  artifact_cid text, artifact_path text, sample_count integer, metrics jsonb,
  update_norm double precision, epsilon_spent double precision
)
language plpgsql security definer set search_path = ''
as $$
declare
  v_job public.jobs := internal.lock_job(p_job_id);
  v_total integer;
  v_open integer;
  v_dead integer;
  v_reason text;
begin
  if v_job.status not in ('running', 'aggregating') then
    raise exception 'Job % is %; only a running job has a round to aggregate', p_job_id, v_job.status
      using errcode = 'OB021',
            hint = case when v_job.status in ('created', 'funded') then 'Start its first round with start_round.' else 'The job has ended.' end;
  end if;
  if v_job.status = 'running' then
    select count(*),
           count(*) filter (where t.status = 'queued'
                              or (t.status = 'leased' and (t.lease_expires_at >= now() or t.attempts < t.max_attempts)))
    into v_total, v_open
    from public.tasks t
    where t.job_id = p_job_id and t.round = v_job.current_round;
    if v_open > 0 then
      raise exception 'Round % of job % is still training: % of % tasks done', v_job.current_round, p_job_id, v_total - v_open, v_total
        using errcode = 'OB021',
              hint = 'Call again when its tasks finish: a round closes when none of its tasks is queued or leased.';
    end if;
    -- Fail the leases that expired on their last attempt, as reap_expired_leases would (only
    -- this round's: the reaper would also lock other jobs while this one is locked).
    with dead as (
      update public.tasks t
      set status = 'failed', lease_expires_at = null, finished_at = clock_timestamp(),
          last_error = format('lease expired at %s while held by worker %s (attempt %s of %s)',
                              t.lease_expires_at, t.leased_by, t.attempts, t.max_attempts)
      where t.job_id = p_job_id and t.round = v_job.current_round and t.status = 'leased'
      returning t.id, t.round, t.shard_index, t.last_error
    )
    select count(*)::integer, max(format('Task %s (round %s, shard %s) failed permanently: %s', d.id, d.round, d.shard_index, d.last_error))
    into v_dead, v_reason
    from dead d;
    update public.jobs j
    set status = 'aggregating',
        tasks_failed = j.tasks_failed + v_dead,
        status_reason = coalesce(v_reason, j.status_reason)
    where j.id = p_job_id;
  end if;
  -- Aggregating already (a retried call): the same results again.
  return query
    select r.id, t.id, t.round, t.shard_index, r.worker_id, r.artifact_cid, r.artifact_path,
           r.sample_count, r.metrics, r.update_norm, r.epsilon_spent
    from public.tasks t
    join public.task_results r on r.id = t.result_id
    where t.job_id = p_job_id and t.round = v_job.current_round and t.status = 'completed'
    order by t.shard_index;
end
$$;
comment on function public.begin_round_aggregation(uuid) is
  'Coordinator only: once no task of the current round is queued or leased, moves the job from running to aggregating and returns the round''s accepted results (one per completed shard, by shard). OB021 while the round is still training. Idempotent while aggregating.';

-- The current round must still be open to change its tasks: not yet recorded by finish_round.
create function internal.assert_round_open(p_job public.jobs, p_action text) returns void
language plpgsql set search_path = ''
as $$
begin
  if p_job.status not in ('running', 'aggregating') then
    raise exception 'Job % is %; % only while a round is running or aggregating', p_job.id, p_job.status, p_action
      using errcode = 'OB021', hint = 'Nothing to do for this job now.';
  end if;
  if exists (select 1 from public.job_rounds r
             where r.job_id = p_job.id and r.round = p_job.current_round and r.status = 'aggregated') then
    raise exception 'Round % of job % is already aggregated; % only before finish_round', p_job.current_round, p_job.id, p_action
      using errcode = 'OB021', hint = 'Start the next round with start_round, or finish the job with complete_job.';
  end if;
end
$$;

create function public.reject_task_result(p_task_id bigint, p_reason text)
returns public.tasks
language plpgsql security definer set search_path = ''
as $$
declare
  v_reason text := internal.assert_reason(p_reason);
  v_job public.jobs;
  v_task public.tasks;
  v_result public.task_results;
  v_final boolean;
begin
  select * into v_task from public.tasks t where t.id = p_task_id;
  if not found then
    raise exception 'Task % does not exist', coalesce(p_task_id::text, 'null')
      using errcode = 'OB002', detail = 'p_task_id', hint = 'Pass a task_id that begin_round_aggregation returned.';
  end if;
  v_job := internal.lock_job(v_task.job_id);
  select * into v_task from public.tasks t where t.id = p_task_id for update;
  perform internal.assert_round_open(v_job, 'results can be rejected');
  if v_task.round <> v_job.current_round then
    raise exception 'Task % belongs to round % but job % is in round %', p_task_id, v_task.round, v_job.id, v_job.current_round
      using errcode = 'OB021', hint = 'Only results of the current round can be rejected: earlier rounds are aggregated.';
  end if;
  if v_task.status <> 'completed' then
    raise exception 'Task % is %; only a completed task has a result to reject', p_task_id, v_task.status
      using errcode = 'OB021', hint = 'Nothing to do: the result was rejected already, or never delivered.';
  end if;

  delete from public.task_results r where r.task_id = p_task_id returning * into v_result;
  v_final := v_task.attempts >= v_task.max_attempts;
  update public.tasks t
  set status = case when v_final then 'failed'::public.task_status else 'queued' end,
      result_id = null,
      last_error = 'result rejected: ' || v_reason,
      lease_expires_at = null,
      run_after = case when v_final then t.run_after else now() end, -- now(): claimable at once
      finished_at = case when v_final then clock_timestamp() end
  where t.id = p_task_id
  returning * into v_task;
  -- The delivery did not count: move it from the worker's completed to its failed.
  update public.workers w
  set tasks_completed = greatest(w.tasks_completed - 1, 0), tasks_failed = w.tasks_failed + 1
  where w.id = coalesce(v_result.worker_id, v_task.leased_by);
  update public.jobs j
  set status = 'running',
      tasks_failed = j.tasks_failed + v_final::integer,
      status_reason = case when v_final
        then format('Task %s (round %s, shard %s) failed after %s attempt(s): result rejected: %s',
                    v_task.id, v_task.round, v_task.shard_index, v_task.attempts, left(v_reason, 500))
        else j.status_reason end
  where j.id = v_job.id;
  return v_task;
end
$$;
comment on function public.reject_task_result(bigint, text) is
  'Coordinator only: refuses a completed task''s update (NaN, too large, CID mismatch…): deletes the result, requeues the task (or fails it past max_attempts), counts a failure for its worker, and puts an aggregating job back to running. Current round only.';

create function public.requeue_failed_tasks(p_job_id uuid)
returns integer
language plpgsql security definer set search_path = ''
as $$
declare
  v_job public.jobs := internal.lock_job(p_job_id);
  v_count integer;
begin
  perform internal.assert_round_open(v_job, 'failed tasks can be requeued');
  update public.tasks t
  set status = 'queued', attempts = 0, run_after = now(), lease_expires_at = null, finished_at = null
  where t.job_id = p_job_id and t.round = v_job.current_round and t.status = 'failed';
  get diagnostics v_count = row_count;
  if v_count > 0 then
    update public.jobs j set status = 'running' where j.id = p_job_id; -- no-op when running
  end if;
  return v_count;
end
$$;
comment on function public.requeue_failed_tasks(uuid) is
  'Coordinator only: puts the current round''s failed tasks back in the queue with their attempts reset (when too few shards delivered; once a round) and an aggregating job back to running. Returns how many; 0 changes nothing.';

create function public.finish_round(
  p_job_id uuid,
  p_test_accuracy double precision,
  p_test_loss double precision,
  p_epsilon_spent double precision,
  p_metrics jsonb default '{}'::jsonb
) returns public.job_rounds
language plpgsql security definer set search_path = ''
as $$
declare
  v_job public.jobs := internal.lock_job(p_job_id);
  v_round public.job_rounds;
  v_private boolean := v_job.privacy_delta is not null;
begin
  if v_job.status <> 'aggregating' then
    raise exception 'Job % is %; finish_round records a round closed by begin_round_aggregation', p_job_id, v_job.status
      using errcode = 'OB021', hint = 'Call begin_round_aggregation first (it succeeds once no task of the round is queued or leased).';
  end if;
  v_round := internal.lock_current_round(v_job);
  if v_round.job_id is null then
    raise exception 'Round % of job % has no job_rounds row: it was not started with start_round', v_job.current_round, p_job_id
      using errcode = 'OB021', hint = 'Start rounds with start_round, which records each one.';
  end if;
  if v_round.status = 'aggregated' then
    return v_round; -- a retried call: the first record stands
  end if;
  if p_test_accuracy is not null and not (p_test_accuracy between 0 and 1) then
    raise exception 'p_test_accuracy must be between 0 and 1 (got %)', p_test_accuracy
      using errcode = 'OB002', detail = 'p_test_accuracy', hint = 'Pass the share of test examples classified right, or null when the job has no test split.';
  end if;
  if p_test_loss is not null and not (p_test_loss >= 0 and p_test_loss < 'infinity') then
    raise exception 'p_test_loss must be a finite number ≥ 0 (got %)', p_test_loss
      using errcode = 'OB002', detail = 'p_test_loss', hint = 'Pass the mean cross-entropy on the test split, or null when the job has no test split.';
  end if;
  if v_private and (p_epsilon_spent is null or not (p_epsilon_spent >= 0 and p_epsilon_spent < 'infinity')) then
    raise exception 'p_epsilon_spent must be a finite number ≥ 0 for a job with differential privacy (got %)', coalesce(p_epsilon_spent::text, 'nothing')
      using errcode = 'OB002', detail = 'p_epsilon_spent', hint = 'Pass the ε the accountant reports after this round, at the job''s δ.';
  end if;
  if not v_private and p_epsilon_spent is not null then
    raise exception 'p_epsilon_spent must be null: job % trains without differential privacy', p_job_id
      using errcode = 'OB002', detail = 'p_epsilon_spent', hint = 'Its spec has no privacy section, so there is no ε to report.';
  end if;
  if p_metrics is not null and (jsonb_typeof(p_metrics) <> 'object' or octet_length(p_metrics::text) > 16384) then
    raise exception 'p_metrics must be a JSON object of at most 16384 bytes'
      using errcode = 'OB002', detail = 'p_metrics', hint = 'For example {"update_norm_mean": 0.8}.';
  end if;

  update public.job_rounds r
  set status = 'aggregated', aggregated_at = now(),
      tasks_completed = c.completed, tasks_failed = c.failed, sample_count = c.samples,
      test_accuracy = p_test_accuracy, test_loss = p_test_loss, epsilon_spent = p_epsilon_spent,
      metrics = coalesce(p_metrics, '{}'::jsonb)
  from (
    select count(*) filter (where t.status = 'completed') as completed,
           count(*) filter (where t.status = 'failed') as failed,
           coalesce(sum(res.sample_count) filter (where t.status = 'completed'), 0) as samples
    from public.tasks t
    left join public.task_results res on res.id = t.result_id
    where t.job_id = p_job_id and t.round = v_job.current_round
  ) c
  where r.job_id = p_job_id and r.round = v_job.current_round
  returning r.* into v_round;
  if p_epsilon_spent is not null then
    update public.jobs j
    set privacy_epsilon_spent = greatest(j.privacy_epsilon_spent, p_epsilon_spent)
    where j.id = p_job_id;
  end if;
  return v_round;
end
$$;
comment on function public.finish_round(uuid, double precision, double precision, double precision, jsonb) is
  'Coordinator only: records the aggregate of the round being aggregated (test accuracy and loss, ε so far — null without privacy —, metrics) and the round''s counts; the job''s ε becomes the largest reported. Idempotent: a retried call returns the first record.';

-- ------------------------------------------------------------------ the end of a job

create function internal.model_fail(p_path text, p_problem text) returns void
language plpgsql immutable set search_path = ''
as $$
begin
  raise exception 'Invalid model: % %', p_path, p_problem
    using errcode = 'OB002', detail = p_path,
          hint = 'p_model is {"name"?, "artifacts": {"tfjs"|"onnx"|"h5"|"pt"|"pkl": {"files": [{"name", "path", "cid", "bytes", "contentType"}]}}, "metrics"?: {}, "epsilon"?, "delta"?}; file paths lie under jobs/<job_id>/model/ in the artifacts bucket.';
end
$$;

-- The shape of models.artifacts, checked field by field so the error names the bad one.
create function internal.assert_model_artifacts(p_artifacts jsonb, p_job_id uuid) returns void
language plpgsql immutable set search_path = ''
as $$
declare
  v_format text;
  v_entry jsonb;
  v_file jsonb;
  v_index integer;
  v_path text;
  v_prefix text := format('jobs/%s/model/', p_job_id);
begin
  if jsonb_typeof(p_artifacts) is distinct from 'object' or p_artifacts = '{}'::jsonb then
    perform internal.model_fail('p_model.artifacts', 'must be an object with at least one format');
  end if;
  for v_format, v_entry in select e.key, e.value from jsonb_each(p_artifacts) e loop
    v_path := 'p_model.artifacts.' || v_format;
    if not (v_format = any (array['tfjs', 'onnx', 'h5', 'pt', 'pkl'])) then
      perform internal.model_fail(v_path, 'is not a known format; formats are tfjs, onnx, h5, pt, pkl');
    end if;
    if jsonb_typeof(v_entry) <> 'object' then
      perform internal.model_fail(v_path, 'must be {"files": [...]}');
    end if;
    if (select array_agg(k) from jsonb_object_keys(v_entry) k) <> array['files']
       or jsonb_typeof(v_entry -> 'files') <> 'array' or jsonb_array_length(v_entry -> 'files') not between 1 and 1000 then
      perform internal.model_fail(v_path, 'must be {"files": [...]} with 1 to 1000 files');
    end if;
    v_index := 0;
    for v_file in select jsonb_array_elements(v_entry -> 'files') loop
      v_path := format('p_model.artifacts.%s.files[%s]', v_format, v_index);
      if jsonb_typeof(v_file) <> 'object' then
        perform internal.model_fail(v_path, 'must be {"name", "path", "cid", "bytes", "contentType"}');
      end if;
      if (select array_agg(k order by k collate "C") from jsonb_object_keys(v_file) k) <> array['bytes', 'cid', 'contentType', 'name', 'path'] then
        perform internal.model_fail(v_path, 'must have exactly name, path, cid, bytes and contentType');
      end if;
      if jsonb_typeof(v_file -> 'name') <> 'string' or length(v_file ->> 'name') not between 1 and 255 then
        perform internal.model_fail(v_path || '.name', 'must be a file name of 1 to 255 characters');
      end if;
      if jsonb_typeof(v_file -> 'path') <> 'string' or length(v_file ->> 'path') > 1024
         or not starts_with(v_file ->> 'path', v_prefix) or length(v_file ->> 'path') = length(v_prefix) then
        perform internal.model_fail(v_path || '.path', format('must be an object key under %s in the artifacts bucket', v_prefix));
      end if;
      if jsonb_typeof(v_file -> 'cid') <> 'string' or (v_file ->> 'cid') !~ '^b[a-z2-7]{50,100}$' then
        perform internal.model_fail(v_path || '.cid', 'must be a CIDv1 in base32');
      end if;
      if jsonb_typeof(v_file -> 'bytes') <> 'number' or (v_file ->> 'bytes') !~ '^(0|[1-9][0-9]{0,14})$' then
        perform internal.model_fail(v_path || '.bytes', 'must be a whole number of bytes');
      end if;
      if jsonb_typeof(v_file -> 'contentType') <> 'string' or (v_file ->> 'contentType') !~ '^[a-z0-9][a-z0-9.+-]*/[A-Za-z0-9][A-Za-z0-9.+_-]*$' then
        perform internal.model_fail(v_path || '.contentType', 'must be a media type such as application/octet-stream');
      end if;
      v_index := v_index + 1;
    end loop;
  end loop;
end
$$;

create function public.complete_job(p_job_id uuid, p_model jsonb)
returns public.models
language plpgsql security definer set search_path = ''
as $$
declare
  v_job public.jobs := internal.lock_job(p_job_id);
  v_round public.job_rounds;
  v_model public.models;
  v_key text;
begin
  if v_job.status = 'completed' then
    select * into v_model from public.models m where m.job_id = p_job_id order by m.created_at limit 1;
    if found then
      return v_model; -- a retried call: the model it made
    end if;
  end if;
  if v_job.status <> 'aggregating' then
    raise exception 'Job % is %; a job completes from aggregating, after its last round', p_job_id, v_job.status
      using errcode = 'OB021', hint = 'Run the rounds first: start_round, begin_round_aggregation, finish_round.';
  end if;
  if v_job.current_round < v_job.rounds then
    raise exception 'Job % has run % of its % rounds', p_job_id, v_job.current_round, v_job.rounds
      using errcode = 'OB021', hint = 'Start the next round with start_round.';
  end if;
  v_round := internal.lock_current_round(v_job);
  if v_round.status = 'training' then
    raise exception 'Round % of job % is not finished', v_job.current_round, p_job_id
      using errcode = 'OB021', hint = 'Record the last round''s aggregate with finish_round first.';
  end if;

  if jsonb_typeof(p_model) is distinct from 'object' then
    perform internal.model_fail('p_model', 'must be a JSON object');
  end if;
  for v_key in select jsonb_object_keys(p_model) loop
    if not (v_key = any (array['name', 'artifacts', 'metrics', 'epsilon', 'delta'])) then
      perform internal.model_fail('p_model.' || v_key, 'is not a known field; p_model may have: name, artifacts, metrics, epsilon, delta');
    end if;
  end loop;
  if p_model ? 'name' and (jsonb_typeof(p_model -> 'name') <> 'string' or length(p_model ->> 'name') not between 1 and 120) then
    perform internal.model_fail('p_model.name', 'must be a text of 1 to 120 characters');
  end if;
  perform internal.assert_model_artifacts(p_model -> 'artifacts', p_job_id);
  if p_model ? 'metrics' and jsonb_typeof(p_model -> 'metrics') <> 'object' then
    perform internal.model_fail('p_model.metrics', 'must be an object, e.g. {"test_accuracy": 0.97}');
  end if;
  if p_model ? 'epsilon' and jsonb_typeof(p_model -> 'epsilon') <> 'null'
     and (jsonb_typeof(p_model -> 'epsilon') <> 'number' or (p_model ->> 'epsilon')::numeric < 0) then
    perform internal.model_fail('p_model.epsilon', 'must be a number ≥ 0, or null without differential privacy');
  end if;
  if p_model ? 'delta' and jsonb_typeof(p_model -> 'delta') <> 'null'
     and (jsonb_typeof(p_model -> 'delta') <> 'number' or not ((p_model ->> 'delta')::numeric > 0 and (p_model ->> 'delta')::numeric < 1)) then
    perform internal.model_fail('p_model.delta', 'must be a number between 0 and 1 (exclusive), or null without differential privacy');
  end if;

  insert into public.models (owner_id, job_id, name, artifacts, metrics, epsilon, delta)
  values (
    v_job.owner_id, v_job.id,
    coalesce(p_model ->> 'name', v_job.spec ->> 'name', 'Job ' || v_job.id),
    p_model -> 'artifacts',
    coalesce(p_model -> 'metrics', '{}'::jsonb),
    -- Unless given: the job's ε and δ, none without privacy.
    case when p_model ? 'epsilon' then (p_model ->> 'epsilon')::double precision
         when v_job.privacy_delta is not null then v_job.privacy_epsilon_spent end,
    case when p_model ? 'delta' then (p_model ->> 'delta')::double precision else v_job.privacy_delta end
  )
  returning * into v_model;
  update public.jobs j
  set status = 'completed', status_reason = format('completed after %s rounds: model %s', v_job.rounds, v_model.id)
  where j.id = p_job_id;
  return v_model;
end
$$;
comment on function public.complete_job(uuid, jsonb) is
  'Coordinator only: after the last round is aggregated and recorded, stores the trained model (owned by the job''s owner; artifacts per format as {"files": [{name, path, cid, bytes, contentType}]}) and completes the job. Idempotent: a retried call returns the same model.';

create function public.fail_job(p_job_id uuid, p_reason text)
returns public.jobs
language plpgsql security definer set search_path = ''
as $$
declare
  v_reason text := internal.assert_reason(p_reason);
  v_job public.jobs := internal.lock_job(p_job_id);
begin
  if v_job.status = 'failed' then
    return v_job; -- failing twice is not an error; the first reason stands
  end if;
  if v_job.status not in ('funded', 'running', 'aggregating') then
    raise exception 'Job % is %; only a funded, running or aggregating job can fail', p_job_id, v_job.status
      using errcode = 'OB021', hint = 'A created job can be cancelled by its owner; an ended job stays as it is.';
  end if;
  -- Revoke every lease: holders learn it from their next heartbeat and drop the work.
  update public.tasks t
  set status = 'cancelled', lease_expires_at = null, finished_at = clock_timestamp(), last_error = 'job failed'
  where t.job_id = p_job_id and t.status in ('queued', 'leased');
  update public.jobs j
  set status = 'failed', status_reason = left(v_reason, 500)
  where j.id = p_job_id
  returning * into v_job;
  return v_job;
end
$$;
comment on function public.fail_job(uuid, text) is
  'Coordinator only: gives up on a funded, running or aggregating job with a reason, and revokes its queued and leased tasks. Idempotent.';

comment on column public.models.artifacts is
  'Per format ("tfjs" | "onnx" | "h5" | "pt" | "pkl"): {"files": [{"name", "path", "cid", "bytes", "contentType"}]}; path is the object key in the artifacts bucket (jobs/<job_id>/model/…), cid the CIDv1 of its bytes.';
comment on column public.task_results.artifact_path is
  'Object key of the update in the artifacts bucket: jobs/<job_id>/updates/<task_id>/<cid>.obw.';

revoke all on function internal.lock_job(uuid), internal.lock_current_round(public.jobs), internal.assert_reason(text),
  internal.assert_round_open(public.jobs, text), internal.model_fail(text, text),
  internal.assert_model_artifacts(jsonb, uuid) from public;
revoke all on function public.fund_job_without_escrow(uuid), public.start_round(uuid, text, text),
  public.begin_round_aggregation(uuid), public.reject_task_result(bigint, text), public.requeue_failed_tasks(uuid),
  public.finish_round(uuid, double precision, double precision, double precision, jsonb),
  public.complete_job(uuid, jsonb), public.fail_job(uuid, text) from public, anon, authenticated;
grant execute on function public.fund_job_without_escrow(uuid), public.start_round(uuid, text, text),
  public.begin_round_aggregation(uuid), public.reject_task_result(bigint, text), public.requeue_failed_tasks(uuid),
  public.finish_round(uuid, double precision, double precision, double precision, jsonb),
  public.complete_job(uuid, jsonb), public.fail_job(uuid, text) to service_role;
