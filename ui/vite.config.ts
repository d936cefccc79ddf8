import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// `npm run dev` serves the UI with hot reload and forwards the API to a
// running `switchyard up` (SWITCHYARD_URL, default http://127.0.0.1:8080).
const api = process.env.SWITCHYARD_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      "/api": { target: api, changeOrigin: true },
      "/hooks": { target: api, changeOrigin: true },
    },
    // The definition's JSON Schema lives in ../schema and is bundled at build time.
    fs: { allow: [".."] },
  },
  build: {
    outDir: "dist",
    chunkSizeWarningLimit: 4000,
  },
});
