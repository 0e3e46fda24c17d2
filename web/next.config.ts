import type { NextConfig } from 'next'

const config: NextConfig = {
  // The workspace packages ship TypeScript sources (the training core, the worker core, the
  // contract bindings, the shared network components): Next compiles them with the app.
  transpilePackages: ['@oblivion/model', '@oblivion/node-client', '@oblivion/contracts', '@oblivion/visualizer'],
  reactStrictMode: true,
  poweredByHeader: false,
}

export default config
