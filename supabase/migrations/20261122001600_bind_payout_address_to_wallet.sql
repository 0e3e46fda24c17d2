-- A worker's payout address must be a wallet its owner signed in with (Sign-In with Ethereum).
--
-- Before this, register_worker took any well-formed address. Whoever named a stranger's bonded
-- wallet could lease tasks against that wallet's bond (the stake rule counts the bond of the
-- payout address), and a refused update from such a worker is slashed from the stranger's bond
-- and credited to the job's creator: a user who creates a job, registers a worker at a victim's
-- address and uploads a NaN update would have collected the victim's bond. Proving control of an
-- address needs a signature, which SQL cannot check; the gateway (and hosted GoTrue) checks one at
-- sign-in and records the wallet as an auth.identities row (provider 'web3', provider_id
-- 'web3:ethereum:<address>'). So: the address must be one of the owner's web3 identities. The
-- browser worker is signed in with its wallet already; the CLI worker signs in with its wallet
-- when it is given one (node-client/src/cli/connection.ts).
--
-- A trigger rather than a check inside register_worker: it holds for every write to
-- workers.payout_address, whatever function makes it. With one user per wallet, the stake rule's
-- "leases held by the owner's workers with that payout address" is every lease staked by it.

create function internal.check_payout_address_is_own_wallet() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  if new.payout_address is not null and not exists (
    select 1 from auth.identities i
     where i.user_id = new.owner_id and i.provider = 'web3' and lower(i.provider_id) = 'web3:ethereum:' || new.payout_address
  ) then
    raise exception 'The payout address % is not a wallet you signed in with', new.payout_address
      using errcode = 'OB012', detail = 'p_payout_address',
            hint = 'Sign in with that wallet (Sign-In with Ethereum) and register again: a worker is paid, and staked, only at a wallet its owner proved to hold.';
  end if;
  return new;
end
$$;
revoke all on function internal.check_payout_address_is_own_wallet() from public, anon, authenticated;

-- Workers registered before this migration with an address their owner never signed in with
-- lose it (local jobs only) until they register again.
update public.workers w set payout_address = null
 where w.payout_address is not null
   and not exists (
     select 1 from auth.identities i
      where i.user_id = w.owner_id and i.provider = 'web3' and lower(i.provider_id) = 'web3:ethereum:' || w.payout_address
   );

create trigger workers_payout_address_is_own_wallet
  before insert or update of payout_address, owner_id on public.workers
  for each row execute function internal.check_payout_address_is_own_wallet();

comment on function public.register_worker(text, public.worker_kind, jsonb, integer, text) is
  'Registers (or updates, by name) one of the caller''s workers and returns it. p_payout_address (lower-case) is where it is paid and whose bond stakes its leases of chain-funded jobs, and must be a wallet the caller signed in with (OB012); null: local jobs only.';
