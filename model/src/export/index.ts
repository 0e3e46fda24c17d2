import type { TrainedModel } from '../nn/mlp-weights.ts'
import type { ArtifactFile, ModelArtifact, ModelFormat } from './model-artifact.ts'
import { exportKerasH5 } from './keras-h5.ts'
import { exportOnnx } from './onnx.ts'
import { exportPythonPickle } from './python-pickle.ts'
import { exportTfjsLayers, TFJS_WEIGHTS_FILE } from './tfjs-layers.ts'
import { exportTorchPt } from './torch-pt.ts'

export type { ArtifactFile, ModelArtifact, ModelFormat } from './model-artifact.ts'
export { foldNormalization } from './fold-normalization.ts'
export { weightsForExport } from './export-weights.ts'
export { exportKerasH5, exportOnnx, exportPythonPickle, exportTfjsLayers, exportTorchPt }

export const MODEL_FORMATS: readonly ModelFormat[] = ['tfjs', 'onnx', 'h5', 'pt', 'pkl']

/**
 * One trained model in one downloadable format. Every format holds the same float32 weights
 * with the input normalisation folded in, so each takes raw features and gives the same
 * outputs (PyTorch's state dict holds weights only; the architecture is in the other formats).
 */
export async function exportModel(model: TrainedModel, format: ModelFormat): Promise<ModelArtifact> {
  switch (format) {
    case 'tfjs': {
      const { modelJson, weightsBin } = exportTfjsLayers(model)
      return artifact('tfjs', [
        file('model.json', 'application/json', modelJson),
        file(TFJS_WEIGHTS_FILE, 'application/octet-stream', weightsBin),
      ])
    }
    case 'onnx':
      return artifact('onnx', [file('model.onnx', 'application/octet-stream', exportOnnx(model))])
    case 'h5':
      return artifact('h5', [file('model.h5', 'application/x-hdf5', await exportKerasH5(model))])
    case 'pt':
      // A .pt file is a zip archive (torch.save's container since PyTorch 1.6).
      return artifact('pt', [file('model.pt', 'application/zip', exportTorchPt(model))])
    case 'pkl':
      return artifact('pkl', [file('model.pkl', 'application/octet-stream', exportPythonPickle(model))])
    default:
      // Reachable from untyped callers (a format taken from a URL or a CLI flag).
      throw new Error(`unknown model format '${String(format)}': use one of ${MODEL_FORMATS.join(', ')}`)
  }
}

/** Every format, in MODEL_FORMATS order. */
export async function exportAllFormats(model: TrainedModel): Promise<ModelArtifact[]> {
  const artifacts: ModelArtifact[] = []
  for (const format of MODEL_FORMATS) artifacts.push(await exportModel(model, format))
  return artifacts
}

function artifact(format: ModelFormat, files: ArtifactFile[]): ModelArtifact {
  return { format, files }
}

function file(name: string, contentType: string, bytes: Uint8Array): ArtifactFile {
  return { name, contentType, bytes }
}
