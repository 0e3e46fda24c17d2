-- Job spec v1, revised to mirror model/src/spec/job-spec.ts (the zod schema every client
-- validates with) exactly: the same specs pass, and a refused spec names the same field first.
-- `tests/job-spec-mirror.test.ts` feeds the same specs to both.
--
-- What changed from 20261122000300:
--   * `privacy` is optional: without it a job trains without differential privacy (no clipping,
--     no noise, ε unbounded), and jobs.privacy_delta is null.
--   * the last layer's activation must be softmax (training minimises cross-entropy over classes);
--   * `training.minShardFraction` (0, 1]: the share of a round's shards that must deliver;
--   * trimmed_mean requires `aggregation.trimFraction`;
--   * the order of the checks is zod's, so that a spec with several problems names the same one
--     first: an object's fields in the schema's order (a missing field where it would be), then
--     its unknown fields, then the rules across its fields; the 16 KiB limit last;
--   * numbers are read as JavaScript reads JSON (IEEE doubles), and the 16 KiB limit counts the
--     bytes of JSON.stringify (no spaces; numbers as JavaScript prints them), not of jsonb's text.

-- ------------------------------------------------------------------ how JavaScript sees JSON

-- A JSON number as JSON.parse reads it: the nearest double, 0 below the smallest one, ±Infinity
-- above the largest. Bounds then decide as in zod: 0.0100000000000000001 is 0.01 to both.
create function internal.spec_js_double(p_value numeric) returns double precision
language plpgsql immutable set search_path = ''
as $$
begin
  if p_value = 0 or abs(p_value) between 1e-300 and 1e300 then
    return p_value::double precision; -- numeric → float8 is correctly rounded (strtod)
  end if;
  begin
    return p_value::double precision;
  exception when numeric_value_out_of_range then
    return case when abs(p_value) < 1 then 0 else sign(p_value) * 'infinity'::double precision end;
  end;
end
$$;

-- The length of JSON.stringify(x) for a double: JavaScript's Number::toString prints the
-- shortest digits that read back as x (PostgreSQL's float8 output with extra_float_digits = 1
-- picks the same digits), in fixed notation from 1e-6 up to 1e21, in exponent notation outside.
create function internal.js_number_length(p_value double precision) returns integer
language plpgsql immutable set search_path = '' set extra_float_digits = 1
as $$
declare
  v_text text;
  v_mantissa text;
  v_digits text;
  v_point integer;   -- x = 0.<digits> × 10^v_point, as in ECMA-262's Number::toString (n)
  v_count integer;   -- significant digits (k)
  v_leading integer;
begin
  if p_value = 0 then
    return 1; -- "0", also for -0
  end if;
  if p_value = 'NaN'::double precision or p_value in ('infinity', '-infinity') then
    return 4; -- JSON.stringify writes null
  end if;
  v_text := abs(p_value)::text;
  v_mantissa := split_part(v_text, 'e', 1);
  v_digits := replace(v_mantissa, '.', '');
  v_point := length(split_part(v_mantissa, '.', 1))
             + case when position('e' in v_text) > 0 then split_part(v_text, 'e', 2)::integer else 0 end;
  v_leading := length(v_digits) - length(ltrim(v_digits, '0'));
  v_digits := rtrim(ltrim(v_digits, '0'), '0');
  v_point := v_point - v_leading;
  v_count := length(v_digits);
  return (p_value < 0)::integer + case
    when v_count <= v_point and v_point <= 21 then v_point            -- 1200
    when 0 < v_point and v_point <= 21 then v_count + 1               -- 12.5
    when -6 < v_point and v_point <= 0 then 2 - v_point + v_count     -- 0.00125
    else v_count + (v_count > 1)::integer + 2 + length(abs(v_point - 1)::text) -- 1.25e-7, 1e+21
  end;
end
$$;

-- The bytes of JSON.stringify(p_value) (UTF-8). jsonb's text puts ", " and ": " between items
-- where JSON.stringify puts no space, and prints numbers as exact decimals; strings and their
-- escapes are the same in both.
create function internal.spec_json_size(p_value jsonb) returns bigint
language sql immutable set search_path = ''
as $$
  select octet_length(p_value::text) - coalesce(sum(
    case jsonb_typeof(v)
      when 'object' then greatest(2 * (select count(*) from jsonb_object_keys(v)) - 1, 0)
      when 'array' then greatest(jsonb_array_length(v) - 1, 0)
      when 'number' then octet_length(v::text) - internal.js_number_length(internal.spec_js_double((v #>> '{}')::numeric))
      else 0
    end), 0)
  from jsonb_path_query(p_value, 'strict $.**') v
$$;

-- ------------------------------------------------------------------ field checks

-- An object (absent: "is required"). Its fields are checked next, its unknown keys after them.
create function internal.spec_require_object(p_value jsonb, p_path text) returns jsonb
language plpgsql immutable set search_path = ''
as $$
begin
  if p_value is null then
    perform internal.spec_fail(p_path, 'is required');
  end if;
  if jsonb_typeof(p_value) <> 'object' then
    perform internal.spec_fail(p_path, format('must be an object (got %s)', internal.spec_show(p_value)));
  end if;
  return p_value;
end
$$;

-- Refuses the first key that is not among p_allowed (zod's strict objects). jsonb keeps keys
-- sorted (shorter first), not in the order they were written: with two unknown keys, zod may
-- name the other one.
create function internal.spec_known_keys(p_value jsonb, p_path text, p_allowed text[]) returns void
language plpgsql immutable set search_path = ''
as $$
declare
  v_key text;
begin
  for v_key in select jsonb_object_keys(p_value) loop
    if not (v_key = any (p_allowed)) then
      perform internal.spec_fail(p_path || '.' || v_key,
        format('is not a known field; %s may have: %s', p_path, array_to_string(p_allowed, ', ')));
    end if;
  end loop;
end
$$;

-- A list of p_min to p_max items (the length is checked before the items, as zod does).
create function internal.spec_list(p_value jsonb, p_path text, p_min integer, p_max integer, p_what text) returns void
language plpgsql immutable set search_path = ''
as $$
begin
  if p_value is null then
    perform internal.spec_fail(p_path, 'is required');
  end if;
  if jsonb_typeof(p_value) <> 'array' or jsonb_array_length(p_value) not between p_min and p_max then
    perform internal.spec_fail(p_path, format('must be a list of %s to %s %s (got %s)', p_min, p_max, p_what, internal.spec_show(p_value)));
  end if;
end
$$;

-- Same signature as before: a missing value now says "is required", and the value is compared
-- as the double JavaScript reads (see spec_js_double).
create or replace function internal.spec_number(
  p_value jsonb, p_path text, p_min numeric, p_max numeric,
  p_integer boolean default false, p_min_exclusive boolean default false
) returns numeric
language plpgsql immutable set search_path = ''
as $$
declare
  v_number double precision;
  v_range text := format('%s %s and at most %s', case when p_min_exclusive then 'greater than' else 'at least' end, p_min, p_max);
begin
  if p_value is null then
    perform internal.spec_fail(p_path, 'is required');
  end if;
  if jsonb_typeof(p_value) <> 'number' then
    perform internal.spec_fail(p_path, format('must be %s between %s (got %s)',
      case when p_integer then 'a whole number' else 'a number' end, v_range, internal.spec_show(p_value)));
  end if;
  v_number := internal.spec_js_double((p_value #>> '{}')::numeric);
  if v_number in ('infinity', '-infinity') then
    perform internal.spec_fail(p_path, format('must be a finite number (got %s)', internal.spec_show(p_value)));
  end if;
  if p_integer and v_number <> trunc(v_number) then
    perform internal.spec_fail(p_path, format('must be a whole number (got %s)', internal.spec_show(p_value)));
  end if;
  if v_number < p_min::double precision or (p_min_exclusive and v_number = p_min::double precision)
     or v_number > p_max::double precision then
    perform internal.spec_fail(p_path, format('must be %s (got %s)', v_range, internal.spec_show(p_value)));
  end if;
  return v_number::numeric;
end
$$;

create or replace function internal.spec_choice(p_value jsonb, p_path text, p_choices text[]) returns text
language plpgsql immutable set search_path = ''
as $$
begin
  if p_value is null then
    perform internal.spec_fail(p_path, format('is required: one of %s', array_to_string(p_choices, ', ')));
  end if;
  if jsonb_typeof(p_value) <> 'string' or not ((p_value #>> '{}') = any (p_choices)) then
    perform internal.spec_fail(p_path, format('must be one of %s (got %s)', array_to_string(p_choices, ', '), internal.spec_show(p_value)));
  end if;
  return p_value #>> '{}';
end
$$;

-- length() counts characters (code points), as zod's string length does.
create or replace function internal.spec_text(p_value jsonb, p_path text, p_max_length integer) returns text
language plpgsql immutable set search_path = ''
as $$
begin
  if p_value is null then
    perform internal.spec_fail(p_path, 'is required');
  end if;
  if jsonb_typeof(p_value) <> 'string' or length(p_value #>> '{}') not between 1 and p_max_length then
    perform internal.spec_fail(p_path, format('must be a text of 1 to %s characters (got %s)', p_max_length, internal.spec_show(p_value)));
  end if;
  return p_value #>> '{}';
end
$$;

-- ------------------------------------------------------------------ the spec

create or replace function internal.validate_job_spec(p_spec jsonb) returns jsonb
language plpgsql immutable set search_path = ''
as $$
declare
  v_dataset jsonb;
  v_model jsonb;
  v_layers jsonb;
  v_training jsonb;
  v_privacy jsonb;
  v_aggregation jsonb;
  v_index integer;
  v_item jsonb;
  v_size bigint;
begin
  perform internal.spec_require_object(p_spec, 'spec');
  perform internal.spec_number(p_spec -> 'version', 'spec.version', 1, 1, true);
  if p_spec ? 'name' then perform internal.spec_text(p_spec -> 'name', 'spec.name', 120); end if;
  if p_spec ? 'description' then perform internal.spec_text(p_spec -> 'description', 'spec.description', 2000); end if;

  -- dataset: builtin | csv, told apart by `source` (checked first, as zod's discriminated union)
  v_dataset := internal.spec_require_object(p_spec -> 'dataset', 'spec.dataset');
  if internal.spec_choice(v_dataset -> 'source', 'spec.dataset.source', array['builtin', 'csv']) = 'builtin' then
    perform internal.spec_choice(v_dataset -> 'name', 'spec.dataset.name', array['mnist', 'iris', 'penguins']);
    perform internal.spec_known_keys(v_dataset, 'spec.dataset', array['source', 'name']);
  else
    perform internal.spec_text(v_dataset -> 'bucket', 'spec.dataset.bucket', 63);
    perform internal.spec_text(v_dataset -> 'path', 'spec.dataset.path', 1024);
    perform internal.spec_list(v_dataset -> 'featureColumns', 'spec.dataset.featureColumns', 1, 4096, 'column names');
    v_index := 0;
    for v_item in select jsonb_array_elements(v_dataset -> 'featureColumns') loop
      perform internal.spec_text(v_item, format('spec.dataset.featureColumns[%s]', v_index), 200);
      v_index := v_index + 1;
    end loop;
    perform internal.spec_text(v_dataset -> 'labelColumn', 'spec.dataset.labelColumn', 200);
    perform internal.spec_known_keys(v_dataset, 'spec.dataset', array['source', 'bucket', 'path', 'featureColumns', 'labelColumn']);
  end if;

  -- model
  v_model := internal.spec_require_object(p_spec -> 'model', 'spec.model');
  perform internal.spec_choice(v_model -> 'type', 'spec.model.type', array['mlp']);
  v_layers := v_model -> 'layers';
  perform internal.spec_list(v_layers, 'spec.model.layers', 1, 16, 'layers');
  v_index := 0;
  for v_item in select jsonb_array_elements(v_layers) loop
    perform internal.spec_require_object(v_item, format('spec.model.layers[%s]', v_index));
    perform internal.spec_number(v_item -> 'units', format('spec.model.layers[%s].units', v_index), 1, 4096, true);
    perform internal.spec_choice(v_item -> 'activation', format('spec.model.layers[%s].activation', v_index),
      array['relu', 'sigmoid', 'tanh', 'softmax', 'linear']);
    perform internal.spec_known_keys(v_item, format('spec.model.layers[%s]', v_index), array['units', 'activation']);
    v_index := v_index + 1;
  end loop;
  if v_model ? 'normalization' then
    perform internal.spec_choice(v_model -> 'normalization', 'spec.model.normalization', array['none', 'minmax', 'standard']);
  end if;
  perform internal.spec_known_keys(v_model, 'spec.model', array['type', 'layers', 'normalization']);
  -- Training minimises cross-entropy over classes: the output layer must be a softmax.
  if v_layers -> -1 ->> 'activation' <> 'softmax' then
    perform internal.spec_fail(format('spec.model.layers[%s].activation', jsonb_array_length(v_layers) - 1),
      'must be softmax: the last layer outputs the class probabilities');
  end if;

  -- training
  v_training := internal.spec_require_object(p_spec -> 'training', 'spec.training');
  perform internal.spec_choice(v_training -> 'optimizer', 'spec.training.optimizer', array['sgd', 'momentum', 'adam']);
  perform internal.spec_number(v_training -> 'learningRate', 'spec.training.learningRate', 0, 10, false, true);
  perform internal.spec_number(v_training -> 'batchSize', 'spec.training.batchSize', 1, 4096, true);
  perform internal.spec_number(v_training -> 'localEpochs', 'spec.training.localEpochs', 1, 100, true);
  perform internal.spec_number(v_training -> 'rounds', 'spec.training.rounds', 1, 1000, true);
  perform internal.spec_number(v_training -> 'shards', 'spec.training.shards', 1, 10000, true);
  if v_training ? 'testFraction' then
    perform internal.spec_number(v_training -> 'testFraction', 'spec.training.testFraction', 0, 0.5);
  end if;
  if v_training ? 'minShardFraction' then
    perform internal.spec_number(v_training -> 'minShardFraction', 'spec.training.minShardFraction', 0, 1, false, true);
  end if;
  perform internal.spec_known_keys(v_training, 'spec.training',
    array['optimizer', 'learningRate', 'batchSize', 'localEpochs', 'rounds', 'shards', 'testFraction', 'minShardFraction']);
  -- Bounds the task table one job can create (rounds × shards rows).
  if (v_training ->> 'rounds')::numeric * (v_training ->> 'shards')::numeric > 100000 then
    perform internal.spec_fail('spec.training.shards',
      format('× rounds must be at most 100000 tasks (got %s × %s)', v_training ->> 'shards', v_training ->> 'rounds'));
  end if;

  -- privacy (optional: absent = no differential privacy)
  if p_spec ? 'privacy' then
    v_privacy := internal.spec_require_object(p_spec -> 'privacy', 'spec.privacy');
    perform internal.spec_number(v_privacy -> 'clipNorm', 'spec.privacy.clipNorm', 0, 100, false, true);
    if v_privacy ? 'noiseMultiplier' then
      perform internal.spec_number(v_privacy -> 'noiseMultiplier', 'spec.privacy.noiseMultiplier', 0, 100, false, true);
    end if;
    if v_privacy ? 'targetEpsilon' then
      perform internal.spec_number(v_privacy -> 'targetEpsilon', 'spec.privacy.targetEpsilon', 0, 100, false, true);
    end if;
    perform internal.spec_number(v_privacy -> 'delta', 'spec.privacy.delta', 0, 0.01, false, true);
    perform internal.spec_known_keys(v_privacy, 'spec.privacy', array['clipNorm', 'noiseMultiplier', 'targetEpsilon', 'delta']);
    if (v_privacy ? 'noiseMultiplier') = (v_privacy ? 'targetEpsilon') then
      perform internal.spec_fail('spec.privacy.noiseMultiplier',
        'or spec.privacy.targetEpsilon must be given, not both: the noise multiplier σ directly, or a target ε from which the accountant derives σ');
    end if;
  end if;

  -- aggregation (optional)
  if p_spec ? 'aggregation' then
    v_aggregation := internal.spec_require_object(p_spec -> 'aggregation', 'spec.aggregation');
    perform internal.spec_choice(v_aggregation -> 'strategy', 'spec.aggregation.strategy', array['fedavg', 'median', 'trimmed_mean']);
    if v_aggregation ? 'trimFraction' then
      perform internal.spec_number(v_aggregation -> 'trimFraction', 'spec.aggregation.trimFraction', 0, 0.45);
    end if;
    if v_aggregation ? 'updateNormBound' then
      perform internal.spec_number(v_aggregation -> 'updateNormBound', 'spec.aggregation.updateNormBound', 0, 1000000, false, true);
    end if;
    perform internal.spec_known_keys(v_aggregation, 'spec.aggregation', array['strategy', 'trimFraction', 'updateNormBound']);
    if v_aggregation ->> 'strategy' = 'trimmed_mean' and not v_aggregation ? 'trimFraction' then
      perform internal.spec_fail('spec.aggregation.trimFraction', 'is required for the trimmed_mean strategy: the share of updates cut from each end');
    elsif v_aggregation ->> 'strategy' <> 'trimmed_mean' and v_aggregation ? 'trimFraction' then
      perform internal.spec_fail('spec.aggregation.trimFraction', 'applies only to the trimmed_mean strategy');
    end if;
  end if;

  perform internal.spec_known_keys(p_spec, 'spec',
    array['version', 'name', 'description', 'dataset', 'model', 'training', 'privacy', 'aggregation']);
  -- 16 KiB keeps a spec small enough to travel in realtime payloads and logs. jsonb's text is
  -- never shorter than JSON.stringify's, so the exact count runs only past 16 KiB of it.
  if octet_length(p_spec::text) > 16384 then
    v_size := internal.spec_json_size(p_spec);
    if v_size > 16384 then
      perform internal.spec_fail('spec', format('is %s bytes; the limit is 16384', v_size));
    end if;
  end if;
  return p_spec;
end
$$;

-- No longer used: its checks are now spec_require_object + spec_known_keys, in zod's order.
drop function internal.spec_object(jsonb, text, text[], text[]);

revoke all on function internal.spec_js_double(numeric), internal.js_number_length(double precision),
  internal.spec_json_size(jsonb), internal.spec_require_object(jsonb, text),
  internal.spec_known_keys(jsonb, text, text[]), internal.spec_list(jsonb, text, integer, integer, text) from public;

-- A job without privacy has no δ.
alter table public.jobs alter column privacy_delta drop not null;
comment on column public.jobs.privacy_delta is
  'δ of the (ε, δ) guarantee (spec.privacy.delta); null when the job trains without differential privacy (no spec.privacy).';
comment on column public.jobs.privacy_epsilon_spent is
  'ε spent so far at privacy_delta (RDP accountant; the largest ε a finished round reported). Stays 0 and means nothing when privacy_delta is null: without differential privacy ε is unbounded.';
