-- What the live network views (visualizer/, web/'s Network page) read besides the topology: a
-- claims counter for claims/s, per-job accuracy and ε curves, and a worker leaderboard. Like
-- network_stats and network_topology: security definer, read-only, pseudonymous ids and numbers
-- only (never owners, names, specs or rewards), so anon may call them. Viewers call them on the
-- coordinator's change pulse (at most a few times a second each), so each is one cheap query.

-- network_stats() gains tasks.claims: leases granted so far (sum of tasks.attempts). Viewers turn
-- the difference between two answers into claims/s, and tasks.completed's into completions/s.
-- It reads the same one pass over tasks as the counts already did (the sum adds no scan).
-- Not strictly monotonic: requeue_failed_tasks resets attempts and reject_task_result takes a
-- completion back; viewers count a decrease as zero.
create or replace function public.network_stats()
returns jsonb
language sql stable security definer set search_path = ''
as $$
  select jsonb_build_object(
    'generated_at', now(),
    'workers', (
      select jsonb_build_object(
        'registered', count(*),
        -- Online = seen within 3 heartbeats (15 s each).
        'online', count(*) filter (where w.last_seen_at > now() - interval '45 seconds'),
        'online_browser', count(*) filter (where w.kind = 'browser' and w.last_seen_at > now() - interval '45 seconds'),
        'online_cli', count(*) filter (where w.kind = 'cli' and w.last_seen_at > now() - interval '45 seconds'))
      from public.workers w),
    'tasks', (
      select jsonb_build_object(
        'queued', count(*) filter (where t.status = 'queued'),
        'leased', count(*) filter (where t.status = 'leased'),
        'completed', count(*) filter (where t.status = 'completed'),
        'failed', count(*) filter (where t.status = 'failed'),
        'claims', coalesce(sum(t.attempts), 0))
      from public.tasks t),
    'jobs', (
      select jsonb_build_object(
        'active', count(*) filter (where j.status in ('funded', 'running', 'aggregating')),
        'running', count(*) filter (where j.status = 'running'),
        'completed', count(*) filter (where j.status = 'completed'),
        'total', count(*))
      from public.jobs j)
  )
$$;
comment on function public.network_stats() is
  'Network-wide counts for dashboards (tasks.claims: leases granted so far, for claims/s); exposes no private field.';

-- Active jobs first (newest first), then jobs that ended in the last hour, at most p_limit
-- (1 to 50): each with its aggregated rounds' held-out accuracy and ε so far (null without a
-- test split / without differential privacy). A job has at most 1,000 rounds.
create function public.network_job_curves(p_limit integer default 8)
returns jsonb
language sql stable security definer set search_path = ''
as $$
  select coalesce(jsonb_agg(jsonb_build_object(
      'job_id', j.id, 'status', j.status, 'rounds', j.rounds, 'current_round', j.current_round,
      'points', coalesce((
        select jsonb_agg(jsonb_build_object('round', r.round, 'accuracy', r.test_accuracy, 'epsilon', r.epsilon_spent)
                         order by r.round)
        from public.job_rounds r
        where r.job_id = j.id and r.status = 'aggregated'), '[]'::jsonb))
    order by j.active desc, j.created_at desc), '[]'::jsonb)
  from (
    select j.id, j.status, j.rounds, j.current_round, j.created_at,
           j.status in ('funded', 'running', 'aggregating') as active
    from public.jobs j
    where j.status in ('funded', 'running', 'aggregating')
       or (j.status in ('completed', 'failed') and j.finished_at > now() - interval '1 hour')
    order by active desc, j.created_at desc
    limit greatest(1, least(coalesce(p_limit, 8), 50))
  ) j
$$;
comment on function public.network_job_curves(integer) is
  'Per active or recently ended job: held-out accuracy and ε per aggregated round (pseudonymous job ids only).';

-- The workers with the most completed tasks, at most p_limit (1 to 100). A top-n sort over
-- workers (no index: one on tasks_completed would make every completion a non-HOT update of the
-- worker row, to speed up a query over a table of a few thousand rows).
create function public.network_leaderboard(p_limit integer default 20)
returns jsonb
language sql stable security definer set search_path = ''
as $$
  select coalesce(jsonb_agg(jsonb_build_object(
      'worker_id', w.id, 'kind', w.kind, 'tasks_completed', w.tasks_completed, 'tasks_failed', w.tasks_failed,
      'reputation', round(w.reputation::numeric, 4), 'online', w.last_seen_at > now() - interval '45 seconds')
    order by w.tasks_completed desc, w.id), '[]'::jsonb)
  from (
    select w.id, w.kind, w.tasks_completed, w.tasks_failed, w.reputation, w.last_seen_at
    from public.workers w
    order by w.tasks_completed desc, w.id
    limit greatest(1, least(coalesce(p_limit, 20), 100))
  ) w
$$;
comment on function public.network_leaderboard(integer) is
  'Workers by completed tasks (pseudonymous worker ids, kind, counts, reputation, online).';

revoke all on function public.network_job_curves(integer), public.network_leaderboard(integer) from public;
grant execute on function public.network_stats(), public.network_job_curves(integer), public.network_leaderboard(integer)
  to anon, authenticated, service_role;
