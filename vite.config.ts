import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [react()],
  resolve: {
    // streamx (under simple-peer) imports `events-universal`, whose default entry requires Node's
    // `events`; in the browser Vite would stub that out. bare-events is the same maintainers'
    // dependency-free EventEmitter, which events-universal itself uses outside Node.
    alias: [{ find: /^events-universal$/, replacement: 'bare-events' }],
  },
  build: { outDir: 'dist', target: 'es2022', sourcemap: true },
  worker: { format: 'es' },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 30_000,
  },
});
