/** One downloadable format of a model: one file, or several (TF.js: model.json + weights.bin). */
export type ModelFormat = 'tfjs' | 'onnx' | 'h5' | 'pt' | 'pkl'

export interface ArtifactFile {
  name: string
  contentType: string
  bytes: Uint8Array
}

export interface ModelArtifact {
  format: ModelFormat
  files: ArtifactFile[]
}
