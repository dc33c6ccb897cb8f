import { defineConfig } from "vite";
import preact from "@preact/preset-vite";

// The built app goes into the jar's classpath under /web; the server serves it at /.
export default defineConfig({
  plugins: [preact()],
  base: "/",
  build: {
    outDir: "target/classes/web",
    emptyOutDir: true,
    assetsDir: "assets",
  },
});
