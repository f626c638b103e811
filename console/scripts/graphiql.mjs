// Copies GraphiQL and the React it runs on from node_modules into dist/graphiql/, beside the
// page and its script (graphiql/), so GET /graphql loads nothing from another host. Run by
// `npm run build` after Vite, from the console folder.
import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const out = join(root, "dist", "graphiql");
const require = createRequire(join(root, "package.json"));

const fromPackages = [
  ["react", "umd/react.production.min.js"],
  ["react-dom", "umd/react-dom.production.min.js"],
  ["graphiql", "graphiql.min.js"],
  ["graphiql", "graphiql.min.css"],
];
const ours = ["index.html", "page.js", "page.css"];

mkdirSync(out, { recursive: true });
for (const [name, file] of fromPackages) {
  const folder = dirname(require.resolve(`${name}/package.json`));
  copyFileSync(join(folder, file), join(out, file.split("/").pop()));
}
for (const file of ours) {
  copyFileSync(join(root, "graphiql", file), join(out, file));
}
console.log(`GraphiQL: ${fromPackages.length + ours.length} files in ${out}`);
