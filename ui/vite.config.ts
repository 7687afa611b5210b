import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// The admin listener of `faurya serve` (see docs/API.md). The dev server forwards the API and
// the login route to it so the cookie it sets is first-party for the dev origin as well.
const backend = process.env.FAURYA_ADMIN_URL ?? 'http://127.0.0.1:8788';

export default defineConfig({
  plugins: [svelte()],
  // The binary serves the UI at `/` of the admin listener.
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 400,
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
    strictPort: true,
    proxy: {
      '/api': { target: backend, changeOrigin: true },
      '/login': { target: backend, changeOrigin: true },
    },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
