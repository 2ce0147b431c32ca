// Vite builds the portal into dist/, which `gantry server` serves at /.
// `npm run dev` serves it with hot reload and sends /api to a running server
// ($GANTRY_URL, default http://127.0.0.1:9186).
import { defineConfig } from 'vite';

export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    target: 'es2020',
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: {
    proxy: { '/api': process.env.GANTRY_URL || 'http://127.0.0.1:9186' },
  },
});
