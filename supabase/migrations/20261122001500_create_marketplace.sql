-- The inference marketplace (issue 7): a model owner proves each answer with a Groth16 proof of
-- the quantized model, whose weights are constants of the circuit. The chain (InferenceMarket)
-- holds the verification key, the price and the escrow of each request; these rows let owners,
-- buyers and the coordinator find each other and keep what the chain does not (the input, the
-- full output, the proof).
--
--   request_zk_setup(model, circuit hash, constraints)   owner: asks for the coordinator's
--                                      phase-2 contribution; uploads zk-setups/<id>/initial.zkey
--   record_zk_contribution(setup, transcript)  coordinator: contributed + beacon, final.zkey
--                                      uploaded → ready;   fail_zk_setup(setup, why) → failed
--   list_model(…)                      owner: after InferenceMarket.listModel; listed = true
--   set_model_listing(model, listed, price)    owner: mirrors setActive / setPrice
--   marketplace_models()               anyone: the listed models, public columns only
--   submit_inference_request(…)        buyer: after requestInference; the input (pixels + salt)
--                                      is visible to the buyer and the model's owner only
--   record_inference_result / _failure (owner), record_inference_refund (buyer)
--
-- Error codes (SQLSTATE, stable, as in 20261122000400):
--   OB040 model not yours (or none)    OB041 model not on the marketplace
--   OB042 setup does not exist        OB043 setup in the wrong state
--   OB044 request not yours (or none)  OB045 request in the wrong state
--   OB046 chain request already recorded

-- ------------------------------------------------------------------ models: the chain listing

-- weights_commitment had no writer before this migration (complete_job leaves it null), so the
-- format check cannot refuse a stored row.
alter table public.models
  add column owner_address text check (owner_address ~ '^0x[0-9a-f]{40}$'),
  add column chain_id bigint check (chain_id > 0),
  add column chain_model_id text check (chain_model_id ~ '^[1-9][0-9]{0,77}$'),
  add column verification_key jsonb check (jsonb_typeof(verification_key) = 'object'),
  add column zk_manifest jsonb check (jsonb_typeof(zk_manifest) = 'object'),
  add column list_tx_hash text check (list_tx_hash ~ '^0x[0-9a-f]{64}$'),
  add constraint models_weights_commitment_check check (weights_commitment ~ '^0x[0-9a-f]{64}$'),
  add constraint models_chain_model_key unique (chain_id, chain_model_id);
comment on column public.models.owner_address is 'The EVM address (lower-case 0x + 40 hex) that listed the model on InferenceMarket and is paid for its answers.';
comment on column public.models.chain_id is 'EVM chain of the InferenceMarket listing.';
comment on column public.models.chain_model_id is 'The model''s id in InferenceMarket (decimal string).';
comment on column public.models.verification_key is 'The Groth16 verification key (snarkjs JSON); its words are what the contract stores.';
comment on column public.models.zk_manifest is 'The public manifest.json of the ZK model (shape, fracBits, inputBits, inputPacking, setup transcript): what a buyer needs to quantize and commit an input.';
comment on column public.models.list_tx_hash is 'The listModel transaction.';
comment on column public.models.weights_commitment is
  'keccak256 of the verification key''s bytes (0x + 64 hex), as InferenceMarket stores it: the key has the quantized weights as circuit constants, so it commits to them.';

-- ------------------------------------------------------------------ inference requests

alter table public.inference_requests
  add column buyer_address text check (buyer_address ~ '^0x[0-9a-f]{40}$'),
  add column error text check (length(error) <= 2000),
  add column refund_tx_hash text check (refund_tx_hash ~ '^0x[0-9a-f]{64}$'),
  add constraint inference_requests_chain_request_key unique (chain_id, chain_request_id);
comment on column public.inference_requests.input is
  '{"pixels": [the quantized input, manifest.inputPacking.inputSize integers], "salt": "<decimal>"}: what the commitment opens to. Only the buyer and the model''s owner see it.';
comment on column public.inference_requests.input_commitment is
  'Poseidon commitment to the input and salt (decimal string, below the BN254 scalar field): the proof''s second public signal and requestInference''s argument.';
comment on column public.inference_requests.output is '{"predicted", "floatPredicted", "probabilities", "logits"}: the proven class, and what the float model said.';
comment on column public.inference_requests.public_signals is '[predicted, inputCommitment] as decimal strings: the proof''s public statement.';
comment on column public.inference_requests.buyer_address is 'The EVM address that paid for the request on chain (and gets a refund).';
comment on column public.inference_requests.error is 'Why the model''s owner could not answer (status failed).';
comment on column public.inference_requests.refund_tx_hash is 'The refund transaction after the deadline (status refunded).';
comment on column public.inference_requests.chain_request_id is 'The request''s id in InferenceMarket (decimal string); one row per chain request.';
-- serve's polling fallback: a model's pending requests, oldest first.
create index inference_requests_pending_idx on public.inference_requests (model_id, created_at) where status = 'pending';

-- ------------------------------------------------------------------ zk setups

create table public.zk_setups (
  id uuid primary key default gen_random_uuid(),
  model_id uuid not null references public.models (id) on delete cascade,
  owner_id uuid not null references auth.users (id) on delete cascade,
  status text not null default 'awaiting_contribution' check (status in ('awaiting_contribution', 'ready', 'failed')),
  circuit_hash text not null check (circuit_hash ~ '^[0-9a-f]{128}$'),
  constraints integer not null check (constraints > 0),
  transcript jsonb check (jsonb_typeof(transcript) = 'object'),
  error text check (length(error) <= 2000),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check ((status = 'ready') = (transcript is not null))
);
comment on table public.zk_setups is
  'The phase-2 Groth16 setup of a model''s circuit: the owner uploads zk-setups/<id>/initial.zkey, the coordinator contributes secret entropy and a public beacon and uploads final.zkey. The owner alone never knows all the entropy, so it cannot forge proofs.';
comment on column public.zk_setups.status is 'awaiting_contribution → ready (record_zk_contribution) | failed (fail_zk_setup, or a newer request for the same model).';
comment on column public.zk_setups.circuit_hash is 'snarkjs'' circuit hash of initial.zkey (blake2b-512, 128 hex), as newZkey returns it.';
comment on column public.zk_setups.constraints is 'The circuit''s constraints: the coordinator checks the zkey against it before contributing.';
comment on column public.zk_setups.transcript is '{"contribution": {name, contributionHash}, "beacon": {chainId, blockNumber, blockHash}}, set when ready.';
create index zk_setups_model_idx on public.zk_setups (model_id);
-- The coordinator's queue.
create index zk_setups_awaiting_idx on public.zk_setups (created_at) where status = 'awaiting_contribution';

create function internal.touch_updated_at() returns trigger
language plpgsql set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end
$$;
revoke all on function internal.touch_updated_at() from public;

create trigger zk_setups_touch_updated_at
  before update on public.zk_setups
  for each row execute function internal.touch_updated_at();

create function internal.my_zk_setup_ids() returns uuid[]
language sql stable security definer set search_path = ''
as $$
  select coalesce(array_agg(s.id), '{}') from public.zk_setups s where s.owner_id = auth.uid()
$$;

alter table public.zk_setups enable row level security;
create policy "Owners see the setups of their models" on public.zk_setups
  for select to authenticated using ((select auth.uid()) = owner_id);
grant select on public.zk_setups to authenticated;
alter publication supabase_realtime add table public.zk_setups;

-- ------------------------------------------------------------------ storage: zk-setups/<setup-id>/

-- True when `p_name` is zk-setups/<setup-id>/initial.zkey of one of the caller's setups that
-- still awaits its contribution: once the coordinator has started, a new initial.zkey would
-- not be the one it contributed to. Parsed before any cast: a malformed name is a refusal.
create function internal.may_upload_initial_zkey(p_name text) returns boolean
language plpgsql stable security definer set search_path = ''
as $$
declare
  v_parts text[] := string_to_array(p_name, '/');
begin
  if cardinality(v_parts) <> 3 or v_parts[1] <> 'zk-setups' or v_parts[3] <> 'initial.zkey'
     or v_parts[2] !~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
    return false;
  end if;
  return exists (
    select 1 from public.zk_setups s
    where s.id = v_parts[2]::uuid and s.owner_id = auth.uid() and s.status = 'awaiting_contribution'
  );
end
$$;

revoke all on function internal.my_zk_setup_ids(), internal.may_upload_initial_zkey(text) from public, anon;
grant execute on function internal.my_zk_setup_ids(), internal.may_upload_initial_zkey(text) to authenticated, service_role;

create policy "Model owners upload the initial zkey of their awaiting setup" on storage.objects
  for insert to authenticated
  with check (bucket_id = 'artifacts' and internal.may_upload_initial_zkey(name));

-- The owner downloads final.zkey (and reads back initial.zkey); nobody else sees a setup's
-- files. The coordinator (service_role) reads and writes them all.
create policy "Model owners read their setups' files" on storage.objects
  for select to authenticated
  using (
    bucket_id = 'artifacts'
    and (storage.foldername(name))[1] = 'zk-setups'
    and (storage.foldername(name))[2] = any ((select internal.my_zk_setup_ids())::text[])
  );

-- ------------------------------------------------------------------ helpers

-- The caller's model, locked; OB040 when it is not theirs (or does not exist).
create function internal.lock_my_model(p_model_id uuid) returns public.models
language plpgsql set search_path = ''
as $$
declare
  v_model public.models;
begin
  select * into v_model from public.models m
  where m.id = p_model_id and m.owner_id = internal.require_user()
  for update;
  if not found then
    raise exception 'Model % is not one of your models', coalesce(p_model_id::text, 'null')
      using errcode = 'OB040', detail = 'p_model_id',
            hint = 'Check the model id (public.models.id): only the owner of a model (the owner of the job that trained it) can do this.';
  end if;
  return v_model;
end
$$;

-- The inference request, locked, when the caller may change it as `p_as` ('owner': the model's
-- owner, 'buyer': who asked); OB044 otherwise.
create function internal.lock_my_inference_request(p_request_id uuid, p_as text) returns public.inference_requests
language plpgsql set search_path = ''
as $$
declare
  v_uid uuid := internal.require_user();
  v_request public.inference_requests;
begin
  select r.* into v_request
  from public.inference_requests r
  join public.models m on m.id = r.model_id
  where r.id = p_request_id
    and case p_as when 'owner' then m.owner_id = v_uid when 'buyer' then r.buyer_id = v_uid else false end
  for update of r;
  if not found then
    raise exception 'Inference request % is not %', coalesce(p_request_id::text, 'null'),
      case p_as when 'owner' then 'on one of your models' else 'one of yours' end
      using errcode = 'OB044', detail = 'p_request_id',
            hint = case p_as when 'owner' then 'Only the owner of the request''s model answers it: check the request id (public.inference_requests.id).'
                             else 'Only the buyer who made the request records its refund: check the request id (public.inference_requests.id).' end;
  end if;
  return v_request;
end
$$;

create function internal.assert_hex(p_value text, p_argument text, p_bytes integer, p_what text) returns text
language plpgsql immutable set search_path = ''
as $$
begin
  if p_value is null or p_value !~ format('^0x[0-9a-f]{%s}$', p_bytes * 2) then
    raise exception 'Invalid %: % is not 0x and % lower-case hex digits', p_argument, coalesce('"' || left(p_value, 100) || '"', 'nothing'), p_bytes * 2
      using errcode = 'OB002', detail = p_argument,
            hint = format('Pass %s in lower case, e.g. as ethers'' %s.', p_what,
                          case when p_bytes = 20 then 'getAddress(…).toLowerCase()' else 'hexlify' end);
  end if;
  return p_value;
end
$$;

-- BN254's scalar field: Poseidon outputs, the salt and the proof's public signals live below it.
create function internal.assert_field_element(p_value text, p_argument text) returns text
language plpgsql immutable set search_path = ''
as $$
begin
  if p_value is null or p_value !~ '^(0|[1-9][0-9]{0,76})$'
     or p_value::numeric >= 21888242871839275222246405745257275088548364400416034343698204186575808495617 then
    raise exception 'Invalid %: % is not a decimal number below the BN254 scalar field', p_argument, coalesce('"' || left(p_value, 100) || '"', 'nothing')
      using errcode = 'OB002', detail = p_argument,
            hint = 'Pass it as a decimal string without sign or leading zeros, e.g. commitment.toString() of the bigint commitInput returned.';
  end if;
  return p_value;
end
$$;

-- ------------------------------------------------------------------ zk setups

create function public.request_zk_setup(p_model_id uuid, p_circuit_hash text, p_constraints integer)
returns uuid
language plpgsql security definer set search_path = ''
as $$
declare
  v_model public.models := internal.lock_my_model(p_model_id);
  v_id uuid;
begin
  if p_circuit_hash is null or p_circuit_hash !~ '^[0-9a-f]{128}$' then
    raise exception 'Invalid p_circuit_hash %: expected 128 lower-case hex digits (snarkjs'' blake2b-512 circuit hash)',
      coalesce('"' || left(p_circuit_hash, 140) || '"', 'nothing')
      using errcode = 'OB002', detail = 'p_circuit_hash', hint = 'Pass the circuitHash newZkey returned for initial.zkey.';
  end if;
  if p_constraints is null or p_constraints < 1 then
    raise exception 'p_constraints must be a positive number of constraints (got %)', coalesce(p_constraints::text, 'nothing')
      using errcode = 'OB002', detail = 'p_constraints', hint = 'Pass the constraint count circom reported for the model''s circuit.';
  end if;
  -- One setup in flight per model: an earlier one the owner gave up on (a crash, a rebuilt
  -- circuit) would otherwise still cost the coordinator a contribution.
  update public.zk_setups s
  set status = 'failed', error = 'superseded by a newer setup request for the same model'
  where s.model_id = v_model.id and s.status = 'awaiting_contribution';
  insert into public.zk_setups (model_id, owner_id, circuit_hash, constraints)
  values (v_model.id, v_model.owner_id, p_circuit_hash, p_constraints)
  returning id into v_id;
  return v_id;
end
$$;
comment on function public.request_zk_setup(uuid, text, integer) is
  'Model owner: asks the coordinator to contribute to the phase-2 setup of the model''s circuit; upload artifacts/zk-setups/<returned id>/initial.zkey next. An earlier awaiting setup of the model fails (superseded).';

create function public.record_zk_contribution(p_setup_id uuid, p_transcript jsonb)
returns void
language plpgsql security definer set search_path = ''
as $$
declare
  v_setup public.zk_setups;
begin
  select * into v_setup from public.zk_setups s where s.id = p_setup_id for update;
  if not found then
    raise exception 'ZK setup % does not exist', coalesce(p_setup_id::text, 'null')
      using errcode = 'OB042', detail = 'p_setup_id', hint = 'Check the setup id (public.zk_setups.id).';
  end if;
  if v_setup.status <> 'awaiting_contribution' then
    raise exception 'ZK setup % is %; only a setup awaiting its contribution can become ready', p_setup_id, v_setup.status
      using errcode = 'OB043', detail = 'p_setup_id',
            hint = case v_setup.status when 'ready' then 'It is done: its final.zkey is uploaded.'
                   else 'The owner must request a new setup (request_zk_setup).' end;
  end if;
  if jsonb_typeof(p_transcript) is distinct from 'object'
     or jsonb_typeof(p_transcript -> 'contribution') is distinct from 'object'
     or jsonb_typeof(p_transcript #> '{contribution,name}') is distinct from 'string'
     or btrim(p_transcript #>> '{contribution,name}') = ''
     or coalesce(p_transcript #>> '{contribution,contributionHash}', '') !~ '^[0-9a-f]{128}$'
     or jsonb_typeof(p_transcript -> 'beacon') is distinct from 'object'
     or jsonb_typeof(p_transcript #> '{beacon,chainId}') is distinct from 'number'
     or (p_transcript #>> '{beacon,chainId}') !~ '^[1-9][0-9]{0,18}$'
     or jsonb_typeof(p_transcript #> '{beacon,blockNumber}') is distinct from 'number'
     or (p_transcript #>> '{beacon,blockNumber}') !~ '^(0|[1-9][0-9]{0,18})$'
     or coalesce(p_transcript #>> '{beacon,blockHash}', '') !~ '^0x[0-9a-f]{64}$' then
    raise exception 'p_transcript must be {"contribution": {"name", "contributionHash": 128 hex}, "beacon": {"chainId", "blockNumber", "blockHash": 0x + 64 hex}}, got %',
      left(coalesce(p_transcript::text, 'nothing'), 300)
      using errcode = 'OB002', detail = 'p_transcript',
            hint = 'Record what contribute returned and the block whose hash was the beacon (read after the contribution).';
  end if;
  update public.zk_setups s set status = 'ready', transcript = p_transcript, error = null where s.id = p_setup_id;
end
$$;
comment on function public.record_zk_contribution(uuid, jsonb) is
  'Coordinator only: after contributing to initial.zkey, applying the beacon and uploading final.zkey: awaiting_contribution → ready with the transcript.';

create function public.fail_zk_setup(p_setup_id uuid, p_error text)
returns void
language plpgsql security definer set search_path = ''
as $$
declare
  v_error text := internal.assert_reason(p_error);
  v_setup public.zk_setups;
begin
  select * into v_setup from public.zk_setups s where s.id = p_setup_id for update;
  if not found then
    raise exception 'ZK setup % does not exist', coalesce(p_setup_id::text, 'null')
      using errcode = 'OB042', detail = 'p_setup_id', hint = 'Check the setup id (public.zk_setups.id).';
  end if;
  if v_setup.status = 'failed' then
    return; -- failing twice is not an error; the first reason stands
  end if;
  if v_setup.status <> 'awaiting_contribution' then
    raise exception 'ZK setup % is ready; a finished setup cannot fail', p_setup_id
      using errcode = 'OB043', detail = 'p_setup_id', hint = 'Nothing to do: its final.zkey is uploaded.';
  end if;
  update public.zk_setups s set status = 'failed', error = v_error where s.id = p_setup_id;
end
$$;
comment on function public.fail_zk_setup(uuid, text) is
  'Coordinator only: an awaiting setup it cannot finish (no initial.zkey, a zkey that is not for the stated circuit) → failed with the reason. Idempotent.';

-- ------------------------------------------------------------------ listing

create function public.list_model(
  p_model_id uuid,
  p_chain_id bigint,
  p_chain_model_id text,
  p_owner_address text,
  p_price_wei public.wei_amount,
  p_verification_key jsonb,
  p_verification_key_hash text,
  p_manifest jsonb,
  p_list_tx_hash text
) returns void
language plpgsql security definer set search_path = ''
as $$
declare
  v_model public.models := internal.lock_my_model(p_model_id);
  v_taken uuid;
begin
  if p_chain_id is null or p_chain_id < 1 then
    raise exception 'p_chain_id must be the chain id of the listing (got %)', coalesce(p_chain_id::text, 'nothing')
      using errcode = 'OB002', detail = 'p_chain_id', hint = 'e.g. 8119 for the Shardeum testnet or local anvil.';
  end if;
  if p_chain_model_id is null or p_chain_model_id !~ '^[1-9][0-9]{0,77}$' then
    raise exception 'Invalid p_chain_model_id %: expected the model id listModel returned, as a decimal string',
      coalesce('"' || left(p_chain_model_id, 100) || '"', 'nothing')
      using errcode = 'OB002', detail = 'p_chain_model_id', hint = 'Read it from the ModelListed event of the list transaction, e.g. "1".';
  end if;
  perform internal.assert_hex(p_owner_address, 'p_owner_address', 20, 'the address that sent listModel');
  if p_price_wei is null or p_price_wei::numeric > 79228162514264337593543950335 then
    raise exception 'p_price_wei must be the price listed on chain, at most 2^96 - 1 wei (got %)', coalesce(p_price_wei::text, 'nothing')
      using errcode = 'OB002', detail = 'p_price_wei', hint = 'InferenceMarket keeps prices in a uint96.';
  end if;
  if jsonb_typeof(p_verification_key) is distinct from 'object' or p_verification_key ->> 'protocol' is distinct from 'groth16'
     or p_verification_key ->> 'nPublic' is distinct from '2' then
    raise exception 'p_verification_key must be a snarkjs Groth16 verification key with 2 public signals (protocol "groth16", nPublic 2)'
      using errcode = 'OB002', detail = 'p_verification_key',
            hint = 'Pass public/verification_key.json of the model''s ZK artifacts: public signals [predicted, inputCommitment].';
  end if;
  perform internal.assert_hex(p_verification_key_hash, 'p_verification_key_hash', 32, 'keccak256 of verificationKeyBytes(vk)');
  if jsonb_typeof(p_manifest) is distinct from 'object'
     or coalesce(p_manifest ->> 'format', '') !~ '^oblivion-zk-model/'
     or jsonb_typeof(p_manifest #> '{inputPacking,inputSize}') is distinct from 'number'
     or (p_manifest #>> '{inputPacking,inputSize}') !~ '^[1-9][0-9]{0,5}$'
     or jsonb_typeof(p_manifest #> '{inputPacking,inputBits}') is distinct from 'number'
     or (p_manifest #>> '{inputPacking,inputBits}') !~ '^[1-9][0-9]{0,2}$'
     or (p_manifest #>> '{inputPacking,inputBits}')::integer > 252 then
    raise exception 'p_manifest must be the model''s public manifest.json (format "oblivion-zk-model/…", inputPacking.inputSize and inputBits positive integers)'
      using errcode = 'OB002', detail = 'p_manifest',
            hint = 'Pass public/manifest.json of the model''s ZK artifacts (buildZkModel writes it): buyers quantize and commit their input with it.';
  end if;
  perform internal.assert_hex(p_list_tx_hash, 'p_list_tx_hash', 32, 'the listModel transaction hash');

  select m.id into v_taken from public.models m
  where m.chain_id = p_chain_id and m.chain_model_id = p_chain_model_id and m.id <> v_model.id;
  if found then
    raise exception 'Chain model % on chain % is already listed as model %', p_chain_model_id, p_chain_id, v_taken
      using errcode = 'OB002', detail = 'p_chain_model_id',
            hint = 'Each InferenceMarket model belongs to one model here: pass the id the ModelListed event of your own list transaction gave.';
  end if;
  -- Listing again (a new setup, a new key) replaces the previous listing: the chain's new
  -- model id is the one buyers must pay from now on.
  update public.models m
  set chain_id = p_chain_id, chain_model_id = p_chain_model_id, owner_address = p_owner_address,
      price_wei = p_price_wei, verification_key = p_verification_key, weights_commitment = p_verification_key_hash,
      zk_manifest = p_manifest, list_tx_hash = p_list_tx_hash, listed = true
  where m.id = v_model.id;
end
$$;
comment on function public.list_model(uuid, bigint, text, text, public.wei_amount, jsonb, text, jsonb, text) is
  'Model owner, after InferenceMarket.listModel: records the listing (chain ids, owner address, price, verification key and its keccak256, public manifest, list tx) and puts the model on the marketplace.';

create function public.set_model_listing(p_model_id uuid, p_listed boolean, p_price_wei public.wei_amount default null)
returns void
language plpgsql security definer set search_path = ''
as $$
declare
  v_model public.models := internal.lock_my_model(p_model_id);
begin
  if p_listed is null then
    raise exception 'p_listed must be true or false' using errcode = 'OB002', detail = 'p_listed';
  end if;
  if v_model.chain_model_id is null then
    raise exception 'Model % was never listed on chain', p_model_id
      using errcode = 'OB041', detail = 'p_model_id',
            hint = 'List it first: InferenceMarket.listModel, then list_model (`oblivion model list`).';
  end if;
  if p_price_wei is not null and p_price_wei::numeric > 79228162514264337593543950335 then
    raise exception 'p_price_wei must be at most 2^96 - 1 wei (got %)', p_price_wei
      using errcode = 'OB002', detail = 'p_price_wei', hint = 'InferenceMarket keeps prices in a uint96.';
  end if;
  update public.models m
  set listed = p_listed, price_wei = coalesce(p_price_wei, m.price_wei)
  where m.id = v_model.id;
end
$$;
comment on function public.set_model_listing(uuid, boolean, public.wei_amount) is
  'Model owner: mirrors InferenceMarket.setActive (listed) and setPrice (p_price_wei; null keeps the price) for a model listed with list_model.';

-- What anyone may read about a listed model: no owner id, no artifacts (their paths lead to the
-- job's files), no job. The owner's address and the key are on chain anyway.
create function public.marketplace_models()
returns table (
  id uuid, name text, owner_address text, price_wei public.wei_amount, chain_id bigint, chain_model_id text,
  verification_key_hash text, verification_key jsonb, manifest jsonb, metrics jsonb, epsilon double precision,
  fulfilled bigint, created_at timestamptz
)
language sql stable security definer set search_path = ''
as $$
  select m.id, m.name, m.owner_address, m.price_wei, m.chain_id, m.chain_model_id, m.weights_commitment,
         m.verification_key, m.zk_manifest, m.metrics, m.epsilon,
         (select count(*) from public.inference_requests r where r.model_id = m.id and r.status = 'fulfilled'),
         m.created_at
  from public.models m
  where m.listed and m.chain_model_id is not null
  order by m.created_at desc, m.id
$$;
comment on function public.marketplace_models() is
  'The models on the marketplace with what a buyer needs (price, chain ids, verification key, manifest, metrics, ε) and how many requests they fulfilled; no private column.';

-- ------------------------------------------------------------------ inference requests

create function public.submit_inference_request(
  p_model_id uuid,
  p_chain_request_id text,
  p_input_commitment text,
  p_input jsonb,
  p_buyer_address text,
  p_request_tx_hash text
) returns uuid
language plpgsql security definer set search_path = ''
as $$
declare
  v_uid uuid := internal.require_user();
  v_model public.models;
  v_size integer;
  v_max numeric;
  v_key text;
  v_pixel jsonb;
  v_index integer := 0;
  v_taken uuid;
  v_id uuid;
begin
  select * into v_model from public.models m where m.id = p_model_id;
  if not found or not v_model.listed or v_model.chain_model_id is null then
    raise exception 'Model % is not on the marketplace', coalesce(p_model_id::text, 'null')
      using errcode = 'OB041', detail = 'p_model_id', hint = 'Pick a model from marketplace_models().';
  end if;
  if p_chain_request_id is null or p_chain_request_id !~ '^[1-9][0-9]{0,77}$' then
    raise exception 'Invalid p_chain_request_id %: expected the request id requestInference returned, as a decimal string',
      coalesce('"' || left(p_chain_request_id, 100) || '"', 'nothing')
      using errcode = 'OB002', detail = 'p_chain_request_id', hint = 'Read it from the InferenceRequested event of your request transaction.';
  end if;
  perform internal.assert_field_element(p_input_commitment, 'p_input_commitment');
  perform internal.assert_hex(p_buyer_address, 'p_buyer_address', 20, 'the address that sent requestInference');
  perform internal.assert_hex(p_request_tx_hash, 'p_request_tx_hash', 32, 'the requestInference transaction hash');

  v_size := (v_model.zk_manifest #>> '{inputPacking,inputSize}')::integer;
  v_max := 2::numeric ^ (v_model.zk_manifest #>> '{inputPacking,inputBits}')::integer - 1;
  if jsonb_typeof(p_input) is distinct from 'object' then
    raise exception 'p_input must be {"pixels": [% integers], "salt": "<decimal>"}', v_size
      using errcode = 'OB002', detail = 'p_input';
  end if;
  for v_key in select jsonb_object_keys(p_input) loop
    if v_key not in ('pixels', 'salt') then
      raise exception 'p_input.% is not a known field; p_input has pixels and salt', v_key
        using errcode = 'OB002', detail = 'p_input.' || v_key;
    end if;
  end loop;
  if jsonb_typeof(p_input -> 'pixels') is distinct from 'array' or jsonb_array_length(p_input -> 'pixels') <> v_size then
    raise exception 'p_input.pixels must be an array of exactly % quantized pixels (manifest.inputPacking.inputSize), got %', v_size,
      case when jsonb_typeof(p_input -> 'pixels') = 'array' then jsonb_array_length(p_input -> 'pixels') || ' of them'
           else coalesce(jsonb_typeof(p_input -> 'pixels'), 'nothing') end
      using errcode = 'OB002', detail = 'p_input.pixels',
            hint = 'Quantize the input with the manifest''s fracBits and inputBits (quantizeInput), and downsample it to the model''s input size first.';
  end if;
  for v_pixel in select e from jsonb_array_elements(p_input -> 'pixels') e loop
    if jsonb_typeof(v_pixel) <> 'number' or v_pixel::text !~ '^(0|[1-9][0-9]{0,18})$' or v_pixel::text::numeric > v_max then
      raise exception 'p_input.pixels[%] is %; the circuit takes integers from 0 to %', v_index, left(v_pixel::text, 40), v_max
        using errcode = 'OB002', detail = format('p_input.pixels[%s]', v_index),
              hint = 'Quantize the input with the manifest''s fracBits and inputBits (quantizeInput).';
    end if;
    v_index := v_index + 1;
  end loop;
  if jsonb_typeof(p_input -> 'salt') is distinct from 'string' then
    raise exception 'p_input.salt must be the commitment''s salt as a decimal string' using errcode = 'OB002', detail = 'p_input.salt';
  end if;
  perform internal.assert_field_element(p_input ->> 'salt', 'p_input.salt');

  select r.id into v_taken from public.inference_requests r
  where r.chain_id = v_model.chain_id and r.chain_request_id = p_chain_request_id;
  if found then
    raise exception 'Chain request % on chain % is already recorded as inference request %', p_chain_request_id, v_model.chain_id, v_taken
      using errcode = 'OB046', detail = 'p_chain_request_id',
            hint = 'Each requestInference is submitted once: follow the existing request instead.';
  end if;
  insert into public.inference_requests
    (model_id, buyer_id, input, input_commitment, price_wei, chain_id, chain_request_id, buyer_address, request_tx_hash)
  values
    (v_model.id, v_uid, p_input, p_input_commitment, v_model.price_wei, v_model.chain_id, p_chain_request_id,
     p_buyer_address, p_request_tx_hash)
  returning id into v_id;
  return v_id;
end
$$;
comment on function public.submit_inference_request(uuid, text, text, jsonb, text, text) is
  'Buyer, after InferenceMarket.requestInference: records the request (pending) with its input {"pixels", "salt"}, which only the buyer and the model''s owner can read. Price and chain copied from the model.';

create function public.record_inference_result(
  p_request_id uuid,
  p_output jsonb,
  p_proof jsonb,
  p_public_signals jsonb,
  p_fulfil_tx_hash text
) returns void
language plpgsql security definer set search_path = ''
as $$
declare
  v_request public.inference_requests := internal.lock_my_inference_request(p_request_id, 'owner');
begin
  perform internal.assert_hex(p_fulfil_tx_hash, 'p_fulfil_tx_hash', 32, 'the fulfil transaction hash');
  if v_request.status = 'fulfilled' and v_request.fulfil_tx_hash = p_fulfil_tx_hash then
    return; -- a retried call after the answer was recorded
  end if;
  if v_request.status <> 'pending' then
    raise exception 'Inference request % is %; only a pending request gets a result', p_request_id, v_request.status
      using errcode = 'OB045', detail = 'p_request_id',
            hint = case v_request.status when 'fulfilled' then 'It was answered already.'
                   else 'It has ended: a failed or refunded request is not answered.' end;
  end if;
  if jsonb_typeof(p_output) is distinct from 'object'
     or jsonb_typeof(p_output -> 'predicted') is distinct from 'number' or (p_output ->> 'predicted') !~ '^(0|[1-9][0-9]{0,8})$'
     or jsonb_typeof(p_output -> 'floatPredicted') is distinct from 'number' or (p_output ->> 'floatPredicted') !~ '^(0|[1-9][0-9]{0,8})$'
     or jsonb_typeof(p_output -> 'probabilities') is distinct from 'array'
     or jsonb_typeof(p_output -> 'logits') is distinct from 'array'
     or exists (select 1 from jsonb_array_elements(p_output -> 'probabilities') e where jsonb_typeof(e) <> 'number')
     or exists (select 1 from jsonb_array_elements(p_output -> 'logits') e where jsonb_typeof(e) <> 'number') then
    raise exception 'p_output must be {"predicted": class, "floatPredicted": class, "probabilities": [numbers], "logits": [numbers]}, got %',
      left(coalesce(p_output::text, 'nothing'), 300)
      using errcode = 'OB002', detail = 'p_output';
  end if;
  if jsonb_typeof(p_proof) is distinct from 'object' or p_proof ->> 'protocol' is distinct from 'groth16' then
    raise exception 'p_proof must be the snarkjs Groth16 proof JSON (protocol "groth16")' using errcode = 'OB002', detail = 'p_proof';
  end if;
  -- The proof's statement is [predicted, inputCommitment]: a result whose signals say another
  -- class or another input is not an answer to this request, whatever the proof proves.
  if jsonb_typeof(p_public_signals) is distinct from 'array' or jsonb_array_length(p_public_signals) <> 2
     or p_public_signals ->> 0 is distinct from p_output ->> 'predicted'
     or p_public_signals ->> 1 is distinct from v_request.input_commitment then
    raise exception 'p_public_signals must be ["<predicted>", "<input commitment>"] of this request: ["%", "%"], got %',
      p_output ->> 'predicted', v_request.input_commitment, left(coalesce(p_public_signals::text, 'nothing'), 300)
      using errcode = 'OB002', detail = 'p_public_signals', hint = 'Pass the publicSignals the prover returned with the proof.';
  end if;
  update public.inference_requests r
  set status = 'fulfilled', output = p_output, proof = p_proof, public_signals = p_public_signals,
      fulfil_tx_hash = p_fulfil_tx_hash, fulfilled_at = now(), error = null
  where r.id = p_request_id;
end
$$;
comment on function public.record_inference_result(uuid, jsonb, jsonb, jsonb, text) is
  'Model owner, after InferenceMarket.fulfil: pending → fulfilled with the output, the Groth16 proof, its public signals [predicted, inputCommitment] and the fulfil tx. A retry with the same tx changes nothing.';

create function public.record_inference_failure(p_request_id uuid, p_error text)
returns void
language plpgsql security definer set search_path = ''
as $$
declare
  v_error text := internal.assert_reason(p_error);
  v_request public.inference_requests := internal.lock_my_inference_request(p_request_id, 'owner');
begin
  if v_request.status = 'failed' then
    return; -- failing twice is not an error; the first reason stands
  end if;
  if v_request.status <> 'pending' then
    raise exception 'Inference request % is %; only a pending request can fail', p_request_id, v_request.status
      using errcode = 'OB045', detail = 'p_request_id', hint = 'Nothing to do: the request has ended.';
  end if;
  update public.inference_requests r set status = 'failed', error = v_error where r.id = p_request_id;
end
$$;
comment on function public.record_inference_failure(uuid, text) is
  'Model owner: a pending request it cannot answer (input does not match the commitment, the chain request is closed…) → failed with the reason; the buyer refunds after the deadline. Idempotent.';

create function public.record_inference_refund(p_request_id uuid, p_refund_tx_hash text)
returns void
language plpgsql security definer set search_path = ''
as $$
declare
  v_request public.inference_requests := internal.lock_my_inference_request(p_request_id, 'buyer');
begin
  perform internal.assert_hex(p_refund_tx_hash, 'p_refund_tx_hash', 32, 'the refund transaction hash');
  if v_request.status = 'refunded' and v_request.refund_tx_hash = p_refund_tx_hash then
    return; -- a retried call after the refund was recorded
  end if;
  if v_request.status not in ('pending', 'failed') then
    raise exception 'Inference request % is %; only a pending or failed request is refunded', p_request_id, v_request.status
      using errcode = 'OB045', detail = 'p_request_id',
            hint = case v_request.status when 'fulfilled' then 'It was answered and paid: there is nothing to refund.'
                   else 'It was refunded already.' end;
  end if;
  update public.inference_requests r set status = 'refunded', refund_tx_hash = p_refund_tx_hash where r.id = p_request_id;
end
$$;
comment on function public.record_inference_refund(uuid, text) is
  'Buyer, after InferenceMarket.refund (past the deadline): a pending or failed request → refunded with the refund tx. A retry with the same tx changes nothing.';

-- ------------------------------------------------------------------ grants

revoke all on function internal.lock_my_model(uuid), internal.lock_my_inference_request(uuid, text),
  internal.assert_hex(text, text, integer, text), internal.assert_field_element(text, text) from public;

revoke all on function public.request_zk_setup(uuid, text, integer),
  public.list_model(uuid, bigint, text, text, public.wei_amount, jsonb, text, jsonb, text),
  public.set_model_listing(uuid, boolean, public.wei_amount),
  public.submit_inference_request(uuid, text, text, jsonb, text, text),
  public.record_inference_result(uuid, jsonb, jsonb, jsonb, text),
  public.record_inference_failure(uuid, text),
  public.record_inference_refund(uuid, text),
  public.marketplace_models()
  from public, anon;
grant execute on function public.request_zk_setup(uuid, text, integer),
  public.list_model(uuid, bigint, text, text, public.wei_amount, jsonb, text, jsonb, text),
  public.set_model_listing(uuid, boolean, public.wei_amount),
  public.submit_inference_request(uuid, text, text, jsonb, text, text),
  public.record_inference_result(uuid, jsonb, jsonb, jsonb, text),
  public.record_inference_failure(uuid, text),
  public.record_inference_refund(uuid, text)
  to authenticated;
grant execute on function public.marketplace_models() to anon, authenticated, service_role;

revoke all on function public.record_zk_contribution(uuid, jsonb), public.fail_zk_setup(uuid, text)
  from public, anon, authenticated;
grant execute on function public.record_zk_contribution(uuid, jsonb), public.fail_zk_setup(uuid, text) to service_role;
