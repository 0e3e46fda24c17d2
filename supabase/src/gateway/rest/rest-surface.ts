import type { GatewayContext, Surface } from '../gateway.ts'
import { sendJson } from '../http.ts'

export function createRestSurface(_context: GatewayContext): Surface {
  return {
    async handle(_req, res) {
      sendJson(res, 501, { message: 'rest: not implemented yet' })
    },
  }
}
