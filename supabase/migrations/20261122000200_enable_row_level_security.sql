-- Row level security on every table. Clients only read; every write goes through an RPC
-- (security definer, checks auth.uid() itself) or the coordinator's service_role (BYPASSRLS).

-- The helpers below are security definer so that a policy on one table can look at another
-- table without that table's policies re-entering (jobs ↔ tasks would recurse). They return the
-- caller's ids as arrays: wrapped in `(select …)` a policy evaluates them once per statement
-- (an initplan) instead of once per row.
create function internal.my_worker_ids() returns uuid[]
language sql stable security definer set search_path = ''
as $$
  select coalesce(array_agg(w.id), '{}') from public.workers w where w.owner_id = auth.uid()
$$;

create function internal.my_job_ids() returns uuid[]
language sql stable security definer set search_path = ''
as $$
  select coalesce(array_agg(j.id), '{}') from public.jobs j where j.owner_id = auth.uid()
$$;

create function internal.my_model_ids() returns uuid[]
language sql stable security definer set search_path = ''
as $$
  select coalesce(array_agg(m.id), '{}') from public.models m where m.owner_id = auth.uid()
$$;

-- Jobs the caller's workers hold a lease on now or delivered a result for: a worker needs the
-- spec of what it trains and the settlement of what it was paid for, nothing more.
create function internal.my_worked_job_ids() returns uuid[]
language sql stable security definer set search_path = ''
as $$
  with mine as (select w.id from public.workers w where w.owner_id = auth.uid())
  select coalesce(array_agg(distinct x.job_id), '{}') from (
    select t.job_id from public.tasks t
    where t.status = 'leased' and t.leased_by in (select id from mine)
    union all
    select r.job_id from public.task_results r where r.worker_id in (select id from mine)
  ) x
$$;

revoke all on function internal.my_worker_ids(), internal.my_job_ids(), internal.my_model_ids(),
  internal.my_worked_job_ids() from public, anon;
grant execute on function internal.my_worker_ids(), internal.my_job_ids(), internal.my_model_ids(),
  internal.my_worked_job_ids() to authenticated, service_role;

alter table public.workers enable row level security;
alter table public.jobs enable row level security;
alter table public.tasks enable row level security;
alter table public.task_results enable row level security;
alter table public.models enable row level security;
alter table public.inference_requests enable row level security;
alter table public.chain_events enable row level security;
alter table public.settlements enable row level security;

create policy "Owners can see their own workers" on public.workers
  for select to authenticated using ((select auth.uid()) = owner_id);

create policy "Owners see their jobs; workers see the jobs they work on" on public.jobs
  for select to authenticated
  using ((select auth.uid()) = owner_id or id = any ((select internal.my_worked_job_ids())::uuid[]));

create policy "Job owners see their tasks; workers see the tasks they hold or held" on public.tasks
  for select to authenticated
  using (job_id = any ((select internal.my_job_ids())::uuid[]) or leased_by = any ((select internal.my_worker_ids())::uuid[]));

create policy "Job owners and the producing worker see task results" on public.task_results
  for select to authenticated
  using (job_id = any ((select internal.my_job_ids())::uuid[]) or worker_id = any ((select internal.my_worker_ids())::uuid[]));

create policy "Owners can see their own models" on public.models
  for select to authenticated using ((select auth.uid()) = owner_id);

create policy "Buyers and model owners see inference requests" on public.inference_requests
  for select to authenticated
  using ((select auth.uid()) = buyer_id or model_id = any ((select internal.my_model_ids())::uuid[]));

-- Chain events are public on the chain already; mirroring them hides nothing.
create policy "Anyone can read mirrored chain events" on public.chain_events
  for select to anon, authenticated using (true);

create policy "Job owners and paid workers see settlements" on public.settlements
  for select to authenticated
  using (job_id = any ((select internal.my_job_ids())::uuid[]) or job_id = any ((select internal.my_worked_job_ids())::uuid[]));

-- Table privileges: read-only for signed-in users, nothing for anon but public chain data.
-- service_role keeps the full privileges hosted Supabase gives it (the coordinator).
grant select on public.workers, public.jobs, public.tasks, public.task_results, public.models,
  public.inference_requests, public.settlements to authenticated;
grant select on public.chain_events to anon, authenticated;
