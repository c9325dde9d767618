/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// Served by the local gateway (and CloudFront) under /console/; the API is on the same origin locally.
export default defineConfig({
  base: "/console/",
  plugins: [react()],
  build: {
    outDir: "dist",
    sourcemap: false,
    chunkSizeWarningLimit: 1200,
  },
  server: {
    // `npm run dev` against a running `make run`: the API routes go to the gateway.
    proxy: Object.fromEntries(
      ["/stock", "/skus", "/warehouses", "/ledger", "/events", "/shops", "/listings", "/sync", "/reconciliation",
       "/alerts", "/subscriptions", "/forecasts", "/replenishment", "/reports", "/tokens", "/audit", "/health",
       "/suppliers", "/purchase-orders", "/transfers", "/transfer-lanes", "/reservations", "/imports", "/exports",
       "/console/config.json"].map((p) => [p, "http://127.0.0.1:8080"]),
    ),
  },
  test: {
    environment: "jsdom",
    include: ["test/**/*.test.{ts,tsx}"],
    setupFiles: ["test/setup.ts"],
  },
});
