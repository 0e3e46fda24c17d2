-- A worker's payout address must be a wallet its owner signed in with (Sign-In with Ethereum).
--
-- Before this, register_worker took any well-formed address. Whoever named a stranger's bonded
-- wallet could lease tasks against that wallet's bond (the stake rule counts the bond of the
-- payout address), and a refused update from such a worker is slashed from the stranger's bond
-- and credited to the job's creator: a user who creates a job, registers a worker at a victim's
-- address and uploads a NaN update would have collected the victim's bond. Proving control of an
-- address needs a signature, which SQL cannot check; the gateway (and hosted GoTrue) checks one at
-- sign-in and records the wallet as an auth.identities row (provider 'web3', provider_id
-- 'web3:ethereum:<address>'). So: the address must be one of the caller's web3 identities. The
-- browser worker is signed in with its wallet already; the CLI worker signs in with its wallet
-- when it is given one (node-client/src/cli/connection.ts).
--
-- With one user per wallet, the stake rule's "leases held by the owner's workers with that
-- payout address" is now every lease staked by that address.

create or replace function public.register_worker(
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
  if p_payout_address is not null and not exists (
    select 1 from auth.identities i
     where i.user_id = v_uid and i.provider = 'web3' and lower(i.provider_id) = 'web3:ethereum:' || p_payout_address
  ) then
    raise exception 'The payout address % is not a wallet you signed in with', p_payout_address
      using errcode = 'OB012', detail = 'p_payout_address',
            hint = 'Sign in with that wallet (Sign-In with Ethereum) and register again: a worker is paid, and staked, only at a wallet its owner proved to hold.';
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
  'Registers (or updates, by name) one of the caller''s workers and returns it. p_payout_address (lower-case) is where it is paid and whose bond stakes its leases of chain-funded jobs, and must be a wallet the caller signed in with (OB012); null: local jobs only.';

-- Workers registered before this migration with an address their owner never signed in with
-- lose it (local jobs only) until they register again.
update public.workers w set payout_address = null
 where w.payout_address is not null
   and not exists (
     select 1 from auth.identities i
      where i.user_id = w.owner_id and i.provider = 'web3' and lower(i.provider_id) = 'web3:ethereum:' || w.payout_address
   );
