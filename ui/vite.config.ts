import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import type { ProxyOptions } from 'vite';

// The admin listener of `faurya serve` (see docs/API.md). The dev server forwards the API and
// the login route to it so the cookie it sets is first-party for the dev origin as well.
const backend = process.env.FAURYA_ADMIN_URL ?? 'http://127.0.0.1:8788';

// The backend refuses changes whose Origin is not its own (docs/API.md, Access): present the
// proxied requests as coming from the backend's origin.
function forward(): ProxyOptions {
  return {
    target: backend,
    changeOrigin: true,
    configure: (proxy) => {
      proxy.on('proxyReq', (req) => {
        if (req.getHeader('origin')) req.setHeader('origin', new URL(backend).origin);
      });
    },
  };
}

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
    rolldownOptions: {
      output: {
        // The chart library in a file of its own: it changes far less often than the app, so
        // the app's own code stays under the size budget above.
        codeSplitting: {
          groups: [{ name: 'uplot', test: /node_modules[\\/]uplot/ }],
        },
      },
    },
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
    strictPort: true,
    proxy: {
      '/api': forward(),
      '/login': forward(),
    },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
