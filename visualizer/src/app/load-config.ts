import { parsePublicConfig, type PublicConfig } from '../public-config.ts'

/**
 * The network to show, from /config.json: serveVisualizer answers it with what `npm start`
 * passes (OBLIVION_PUBLIC_CONFIG), and so does `npm run dev -w visualizer`.
 */
export async function loadPublicConfig(signal?: AbortSignal): Promise<PublicConfig> {
  let response: Response
  try {
    response = await fetch('/config.json', { cache: 'no-store', signal })
  } catch (error) {
    throw new Error(`Could not load /config.json (${(error as Error).message}): is the visualizer's server running (npm start)?`)
  }
  const text = await response.text()
  if (!response.ok) {
    let detail = text
    try {
      detail = (JSON.parse(text) as { message?: string }).message ?? text
    } catch {
      // not JSON: the body as it is
    }
    throw new Error(`/config.json answered ${response.status}: ${detail.slice(0, 300)}`)
  }
  try {
    return parsePublicConfig(text)
  } catch (error) {
    throw new Error(`/config.json is not a network configuration: ${(error as Error).message}`)
  }
}
