import { defineConfig } from 'vite';

// The console is served by the binary at `/`, its assets under `/assets/`, all from the same
// origin under a Content-Security-Policy of 'self'. No inline scripts or styles in the
// output: the module preload polyfill would inject one, so it is off (every browser the
// console supports preloads modules natively).
export default defineConfig({
  base: '/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
});
