import { fileURLToPath } from 'node:url';
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
  build: {
    outDir: 'dist',
    target: 'es2022',
    sourcemap: true,
    // Two HTML entries: the app, and the page `npm run bench` drives (bench/page/bench-page.ts).
    rolldownOptions: {
      input: { main: fileURLToPath(new URL('index.html', import.meta.url)), bench: fileURLToPath(new URL('bench.html', import.meta.url)) },
    },
  },
  worker: { format: 'es' },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 30_000,
  },
});
