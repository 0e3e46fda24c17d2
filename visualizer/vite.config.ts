import react from '@vitejs/plugin-react'
import { defineConfig, type Plugin } from 'vite'
import { parsePublicConfig, PUBLIC_CONFIG_ENV } from './src/public-config.ts'

/** `npm run dev -w visualizer`: /config.json from OBLIVION_PUBLIC_CONFIG, as serveVisualizer answers it. */
function publicConfigInDev(): Plugin {
  return {
    name: 'oblivion-public-config',
    configureServer(server) {
      server.middlewares.use('/config.json', (_request, response) => {
        response.setHeader('Content-Type', 'application/json')
        response.setHeader('Cache-Control', 'no-store')
        try {
          response.end(JSON.stringify(parsePublicConfig(process.env[PUBLIC_CONFIG_ENV])))
        } catch (error) {
          response.statusCode = 503
          response.end(JSON.stringify({ message: (error as Error).message }))
        }
      })
    },
  }
}

export default defineConfig({
  plugins: [react(), publicConfigInDev()],
  build: {
    outDir: 'dist',
    // One wall-screen page: react, recharts, d3-force and supabase-js in ~1 MB is fine.
    chunkSizeWarningLimit: 2048,
  },
})
