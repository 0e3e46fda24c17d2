-- Job spec validation in SQL, so that no client (web form, CLI, raw supabase-js) can store a
-- spec the workers cannot run. The TypeScript schema in model/ mirrors these rules; the field
-- reference is supabase/README.md ("Job spec v1"). Every error names the field in its message
-- and in `detail` (the exact path, e.g. spec.training.batchSize) so a form can highlight it.

create function internal.spec_fail(p_path text, p_problem text) returns void
language plpgsql immutable set search_path = ''
as $$
begin
  raise exception 'Invalid job spec: % %', p_path, p_problem
    using errcode = 'OB003', detail = p_path,
          hint = 'Fix that field and submit the job again; supabase/README.md lists every field of a job spec.';
end
$$;

create function internal.spec_show(p_value jsonb) returns text
language sql immutable set search_path = ''
as $$ select coalesce(left(p_value::text, 60), 'nothing') $$;

-- An object with only known keys and all required keys present.
create function internal.spec_object(p_value jsonb, p_path text, p_allowed text[], p_required text[] default '{}')
returns jsonb
language plpgsql immutable set search_path = ''
as $$
declare
  v_key text;
begin
  if p_value is null or jsonb_typeof(p_value) <> 'object' then
    perform internal.spec_fail(p_path, format('must be an object (got %s)', internal.spec_show(p_value)));
  end if;
  for v_key in select jsonb_object_keys(p_value) loop
    if not (v_key = any (p_allowed)) then
      perform internal.spec_fail(p_path || '.' || v_key,
        format('is not a known field; %s may have: %s', p_path, array_to_string(p_allowed, ', ')));
    end if;
  end loop;
  foreach v_key in array p_required loop
    if not p_value ? v_key then
      perform internal.spec_fail(p_path || '.' || v_key, 'is required');
    end if;
  end loop;
  return p_value;
end
$$;

create function internal.spec_number(
  p_value jsonb, p_path text, p_min numeric, p_max numeric,
  p_integer boolean default false, p_min_exclusive boolean default false
) returns numeric
language plpgsql immutable set search_path = ''
as $$
declare
  v_number numeric;
  v_range text := format('%s %s and at most %s', case when p_min_exclusive then 'greater than' else 'at least' end, p_min, p_max);
begin
  if p_value is null or jsonb_typeof(p_value) <> 'number' then
    perform internal.spec_fail(p_path, format('must be %s between %s (got %s)',
      case when p_integer then 'a whole number' else 'a number' end, v_range, internal.spec_show(p_value)));
  end if;
  v_number := (p_value #>> '{}')::numeric;
  if p_integer and v_number <> trunc(v_number) then
    perform internal.spec_fail(p_path, format('must be a whole number (got %s)', v_number));
  end if;
  if v_number < p_min or (p_min_exclusive and v_number = p_min) or v_number > p_max then
    perform internal.spec_fail(p_path, format('must be %s (got %s)', v_range, v_number));
  end if;
  return v_number;
end
$$;

create function internal.spec_choice(p_value jsonb, p_path text, p_choices text[]) returns text
language plpgsql immutable set search_path = ''
as $$
begin
  if p_value is null or jsonb_typeof(p_value) <> 'string' or not ((p_value #>> '{}') = any (p_choices)) then
    perform internal.spec_fail(p_path, format('must be one of %s (got %s)', array_to_string(p_choices, ', '), internal.spec_show(p_value)));
  end if;
  return p_value #>> '{}';
end
$$;

create function internal.spec_text(p_value jsonb, p_path text, p_max_length integer) returns text
language plpgsql immutable set search_path = ''
as $$
begin
  if p_value is null or jsonb_typeof(p_value) <> 'string' or length(p_value #>> '{}') not between 1 and p_max_length then
    perform internal.spec_fail(p_path, format('must be a text of 1 to %s characters (got %s)', p_max_length, internal.spec_show(p_value)));
  end if;
  return p_value #>> '{}';
end
$$;

-- Job spec version 1. Limits are product limits, not Postgres ones: 16 KiB keeps a spec
-- readable in a NOTIFY payload (8000 bytes) by id only, and rounds × shards ≤ 100,000 bounds
-- the task table one job can create.
create function internal.validate_job_spec(p_spec jsonb) returns jsonb
language plpgsql immutable set search_path = ''
as $$
declare
  v_size integer := octet_length(p_spec::text);
  v_dataset jsonb;
  v_model jsonb;
  v_layer jsonb;
  v_training jsonb;
  v_privacy jsonb;
  v_aggregation jsonb;
  v_index integer := 0;
  v_item jsonb;
begin
  if p_spec is null then
    perform internal.spec_fail('spec', 'is required');
  end if;
  if v_size > 16384 then
    perform internal.spec_fail('spec', format('is %s bytes; the limit is 16384', v_size));
  end if;
  perform internal.spec_object(p_spec, 'spec',
    array['version', 'name', 'description', 'dataset', 'model', 'training', 'privacy', 'aggregation'],
    array['version', 'dataset', 'model', 'training', 'privacy']);
  perform internal.spec_number(p_spec -> 'version', 'spec.version', 1, 1, true);
  if p_spec ? 'name' then perform internal.spec_text(p_spec -> 'name', 'spec.name', 120); end if;
  if p_spec ? 'description' then perform internal.spec_text(p_spec -> 'description', 'spec.description', 2000); end if;

  v_dataset := p_spec -> 'dataset';
  perform internal.spec_object(v_dataset, 'spec.dataset',
    array['source', 'name', 'bucket', 'path', 'featureColumns', 'labelColumn'], array['source']);
  if internal.spec_choice(v_dataset -> 'source', 'spec.dataset.source', array['builtin', 'csv']) = 'builtin' then
    perform internal.spec_object(v_dataset, 'spec.dataset', array['source', 'name'], array['name']);
    perform internal.spec_choice(v_dataset -> 'name', 'spec.dataset.name', array['mnist', 'iris', 'penguins']);
  else
    perform internal.spec_object(v_dataset, 'spec.dataset',
      array['source', 'bucket', 'path', 'featureColumns', 'labelColumn'],
      array['bucket', 'path', 'featureColumns', 'labelColumn']);
    perform internal.spec_text(v_dataset -> 'bucket', 'spec.dataset.bucket', 63);
    perform internal.spec_text(v_dataset -> 'path', 'spec.dataset.path', 1024);
    perform internal.spec_text(v_dataset -> 'labelColumn', 'spec.dataset.labelColumn', 200);
    if jsonb_typeof(v_dataset -> 'featureColumns') <> 'array'
       or jsonb_array_length(v_dataset -> 'featureColumns') not between 1 and 4096 then
      perform internal.spec_fail('spec.dataset.featureColumns',
        format('must be a list of 1 to 4096 column names (got %s)', internal.spec_show(v_dataset -> 'featureColumns')));
    end if;
    for v_item in select jsonb_array_elements(v_dataset -> 'featureColumns') loop
      perform internal.spec_text(v_item, format('spec.dataset.featureColumns[%s]', v_index), 200);
      v_index := v_index + 1;
    end loop;
  end if;

  v_model := p_spec -> 'model';
  perform internal.spec_object(v_model, 'spec.model', array['type', 'layers', 'normalization'], array['type', 'layers']);
  perform internal.spec_choice(v_model -> 'type', 'spec.model.type', array['mlp']);
  if v_model ? 'normalization' then
    perform internal.spec_choice(v_model -> 'normalization', 'spec.model.normalization', array['none', 'minmax', 'standard']);
  end if;
  if jsonb_typeof(v_model -> 'layers') <> 'array' or jsonb_array_length(v_model -> 'layers') not between 1 and 16 then
    perform internal.spec_fail('spec.model.layers',
      format('must be a list of 1 to 16 layers (got %s)', internal.spec_show(v_model -> 'layers')));
  end if;
  v_index := 0;
  for v_layer in select jsonb_array_elements(v_model -> 'layers') loop
    perform internal.spec_object(v_layer, format('spec.model.layers[%s]', v_index), array['units', 'activation'], array['units', 'activation']);
    perform internal.spec_number(v_layer -> 'units', format('spec.model.layers[%s].units', v_index), 1, 4096, true);
    perform internal.spec_choice(v_layer -> 'activation', format('spec.model.layers[%s].activation', v_index),
      array['relu', 'sigmoid', 'tanh', 'softmax', 'linear']);
    v_index := v_index + 1;
  end loop;

  v_training := p_spec -> 'training';
  perform internal.spec_object(v_training, 'spec.training',
    array['optimizer', 'learningRate', 'batchSize', 'localEpochs', 'rounds', 'shards', 'testFraction'],
    array['optimizer', 'learningRate', 'batchSize', 'localEpochs', 'rounds', 'shards']);
  perform internal.spec_choice(v_training -> 'optimizer', 'spec.training.optimizer', array['sgd', 'momentum', 'adam']);
  perform internal.spec_number(v_training -> 'learningRate', 'spec.training.learningRate', 0, 10, false, true);
  perform internal.spec_number(v_training -> 'batchSize', 'spec.training.batchSize', 1, 4096, true);
  perform internal.spec_number(v_training -> 'localEpochs', 'spec.training.localEpochs', 1, 100, true);
  perform internal.spec_number(v_training -> 'rounds', 'spec.training.rounds', 1, 1000, true);
  perform internal.spec_number(v_training -> 'shards', 'spec.training.shards', 1, 10000, true);
  if v_training ? 'testFraction' then
    perform internal.spec_number(v_training -> 'testFraction', 'spec.training.testFraction', 0, 0.5);
  end if;
  if (v_training ->> 'rounds')::integer * (v_training ->> 'shards')::integer > 100000 then
    perform internal.spec_fail('spec.training.shards',
      format('× rounds must be at most 100000 tasks (got %s × %s)', v_training ->> 'shards', v_training ->> 'rounds'));
  end if;

  v_privacy := p_spec -> 'privacy';
  perform internal.spec_object(v_privacy, 'spec.privacy',
    array['clipNorm', 'noiseMultiplier', 'targetEpsilon', 'delta'], array['clipNorm', 'delta']);
  perform internal.spec_number(v_privacy -> 'clipNorm', 'spec.privacy.clipNorm', 0, 100, false, true);
  perform internal.spec_number(v_privacy -> 'delta', 'spec.privacy.delta', 0, 0.01, false, true);
  if (v_privacy ? 'noiseMultiplier') = (v_privacy ? 'targetEpsilon') then
    perform internal.spec_fail('spec.privacy.noiseMultiplier',
      'or spec.privacy.targetEpsilon must be given, not both: the noise multiplier σ directly, or a target ε from which the accountant derives σ');
  end if;
  if v_privacy ? 'noiseMultiplier' then
    perform internal.spec_number(v_privacy -> 'noiseMultiplier', 'spec.privacy.noiseMultiplier', 0, 100, false, true);
  else
    perform internal.spec_number(v_privacy -> 'targetEpsilon', 'spec.privacy.targetEpsilon', 0, 100, false, true);
  end if;

  if p_spec ? 'aggregation' then
    v_aggregation := p_spec -> 'aggregation';
    perform internal.spec_object(v_aggregation, 'spec.aggregation', array['strategy', 'trimFraction', 'updateNormBound'], array['strategy']);
    if internal.spec_choice(v_aggregation -> 'strategy', 'spec.aggregation.strategy', array['fedavg', 'median', 'trimmed_mean']) = 'trimmed_mean' then
      perform internal.spec_number(v_aggregation -> 'trimFraction', 'spec.aggregation.trimFraction', 0, 0.45);
    elsif v_aggregation ? 'trimFraction' then
      perform internal.spec_fail('spec.aggregation.trimFraction', 'applies only to the trimmed_mean strategy');
    end if;
    if v_aggregation ? 'updateNormBound' then
      perform internal.spec_number(v_aggregation -> 'updateNormBound', 'spec.aggregation.updateNormBound', 0, 1000000, false, true);
    end if;
  end if;
  return p_spec;
end
$$;

revoke all on function internal.spec_fail(text, text), internal.spec_show(jsonb),
  internal.spec_object(jsonb, text, text[], text[]), internal.spec_number(jsonb, text, numeric, numeric, boolean, boolean),
  internal.spec_choice(jsonb, text, text[]), internal.spec_text(jsonb, text, integer),
  internal.validate_job_spec(jsonb) from public;
