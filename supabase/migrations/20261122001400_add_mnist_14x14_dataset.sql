-- Job spec v1: a fourth built-in data set, `mnist-14x14` (the `mnist` digits 2×2-averaged to
-- 14×14 = 196 pixels; model/src/data/builtin-datasets.ts). It is the input size of the models
-- meant for zero-knowledge proofs of inference (issue 7): a 196-16-10 MLP is about 1.5–3k
-- constraints against about 4× that with 784 inputs. The zod schema
-- (model/src/spec/job-spec.ts) accepts the same name; tests/job-spec-mirror.test.ts checks that
-- both accept it.
--
-- The function is 20261122000700's, unchanged but for the list of built-in names: the checks
-- and their order must stay zod's.

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
    perform internal.spec_choice(v_dataset -> 'name', 'spec.dataset.name', array['mnist', 'mnist-14x14', 'iris', 'penguins']);
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
