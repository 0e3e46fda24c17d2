import { createServer } from 'node:net'

/**
 * Whether `port` on `host` can be listened on now, and which port that is (0 asks the system
 * for a free one). The web app and the visualizer must know each other's URL before either
 * starts (each links to the other), so their ports are settled here first.
 */
export function claimablePort(port: number, host = '127.0.0.1'): Promise<number | null> {
  const server = createServer()
  return new Promise((resolve) => {
    server.once('error', () => resolve(null))
    server.listen(port, host, () => {
      const { port: bound } = server.address() as { port: number }
      server.close(() => resolve(bound))
    })
  })
}
