/// <reference types="vitest/config" />
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

const root = fileURLToPath(new URL(".", import.meta.url));

// Built for django-vite: the manifest key of the entry is its path relative to `root`
// ("src/main.tsx"), which is what templates/app.html passes to {% vite_asset %}.
export default defineConfig({
  root,
  base: "/static/",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    manifest: true,
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      input: "src/main.tsx",
    },
  },
  server: {
    // `npm run dev` is only useful with django-vite dev_mode; production uses the manifest.
    origin: "http://localhost:5173",
  },
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
  },
});
