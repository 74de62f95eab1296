// Builds GraphiQL into dist/, which is committed and embedded in the senco-oversight binary
// (api/src/http/assets.rs). The output must not change from one build to the next: CI
// rebuilds it and fails when dist/ differs from the commit, so file names carry content
// hashes only and nothing records a time or a path.
import { defineConfig } from 'vite';

export default defineConfig({
  // The binary serves index.html at /graphiql and the rest under /graphiql/assets/.
  base: '/graphiql/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    // Every asset is a file of its own, never a data: URL, so the page's CSP can stay 'self'.
    assetsInlineLimit: 0,
    // GraphiQL with the Monaco editor is large; it is loaded once and cached for good.
    chunkSizeWarningLimit: 8192,
    reportCompressedSize: false,
    rollupOptions: {
      onwarn(warning, warn) {
        // framer-motion's "use client" lines mean nothing outside React Server Components.
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
  worker: {
    format: 'es',
  },
});
