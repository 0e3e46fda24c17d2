import type { TrainedModel } from '../nn/mlp-weights.ts'

/**
 * What every format carries besides the weights, so that a downloaded file alone says which
 * output is which class, which input is which feature, and what privacy it cost.
 */
export interface ModelMetadata {
  modelName: string
  classNames: string[]
  featureNames: string[]
  privacy: { epsilon: number | null; delta: number | null }
  metrics: Record<string, number>
  /** Always true: exporters fold the normalisation in, so every format takes raw features. */
  normalizationFolded: true
  jobId?: string
  rounds?: number
}

export function modelMetadata(model: TrainedModel): ModelMetadata {
  return {
    modelName: model.name,
    classNames: [...model.classNames],
    featureNames: [...model.featureNames],
    privacy: { epsilon: model.privacy.epsilon, delta: model.privacy.delta },
    metrics: { ...model.metrics },
    normalizationFolded: true,
    ...(model.jobId === undefined ? {} : { jobId: model.jobId }),
    ...(model.rounds === undefined ? {} : { rounds: model.rounds }),
  }
}
