import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

// The dashboard: built into dist/renderer, which the headless agent serves on 127.0.0.1 and the
// Electron window loads from disk (hence the relative base).
const root = import.meta.dirname;

/**
 * `vite dev` injects inline scripts (React refresh) that the strict CSP in index.html refuses;
 * the dev server is for development only, so its copy of the page drops the meta tag.
 */
function devWithoutCsp(): Plugin {
  return {
    name: 'offshift-dev-without-csp',
    apply: 'serve',
    transformIndexHtml: { order: 'pre', handler: (html) => html.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>\s*/, '') },
  };
}

export default defineConfig({
  root,
  base: './',
  plugins: [react(), devWithoutCsp()],
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // Never inline assets as data: URLs into scripts; keep every asset a file under 'self'.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  server: {
    // `vite dev` against a running agent: `OFFSHIFT_DEV_ORIGIN=http://localhost:5173 npm run agent`,
    // then `npx vite --config renderer/vite.config.ts` and open http://localhost:5173/#token=…
    proxy: {
      '/api': { target: process.env.OFFSHIFT_AGENT_URL ?? 'http://127.0.0.1:7878', ws: true, changeOrigin: true },
    },
  },
});
