// Vite builds the portal into dist/, which `gantry server` serves at /.
// `npm run dev` serves it with hot reload and sends /api to a running server
// ($GANTRY_URL, default http://127.0.0.1:9186).
import { defineConfig } from 'vite';

export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    target: 'es2020',
    // scripts/web.sh builds beside dist and swaps it in, so a running server
    // never serves a half-written portal
    outDir: process.env.GANTRY_WEB_OUT || 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: {
    proxy: { '/api': process.env.GANTRY_URL || 'http://127.0.0.1:9186' },
  },
});
