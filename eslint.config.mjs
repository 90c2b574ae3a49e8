// Lint TypeScript sources with the recommended rule sets; generated and vendored trees are ignored.
// Formatting is Prettier's alone (`npm run format`; `npm run lint` checks it), so eslint-config-prettier turns off
// every stylistic rule that could disagree with it.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import prettier from "eslint-config-prettier";
import importX, { createNodeResolver } from "eslint-plugin-import-x";

/**
 * Layers only look down (docs/architecture.md): for each directory of production code, the directories it must
 * not import from. Test files (*.test.ts), test/ and bench/ may import any layer; nothing else imports test/.
 */
export const LAYERS = [
  {
    target: "model",
    forbidden: ["roles", "ops", "components", "lab", "scripts", "test", "bench", "index.ts"],
    why: "model/ is the bottom layer",
  },
  { target: "roles", forbidden: ["ops", "components", "lab", "scripts", "test", "bench", "index.ts"], why: "roles/ sees only model/" },
  {
    target: "ops",
    forbidden: ["components", "lab", "scripts", "test", "bench", "index.ts"],
    why: "ops/ sees only roles/ and model/; callers inject the lab",
  },
  { target: "components", forbidden: ["lab", "scripts", "test", "bench", "index.ts"], why: "components/ sees ops/, roles/ and model/" },
  { target: "lab", forbidden: ["components", "scripts", "test", "bench", "index.ts"], why: "lab/ sees ops/ (sideways), roles/ and model/" },
  { target: "scripts", forbidden: ["test", "bench"], why: "scripts/ are user commands: no test or bench code" },
  { target: "index.ts", forbidden: ["lab", "scripts", "test", "bench"], why: "the Pulumi program uses components/ and model/" },
];

/**
 * One local process runner (issue 13): every program this repository starts on its own machine starts in
 * ops/process.ts (run, runSync, startDetached); no other production file imports node:child_process, statically,
 * dynamically or by require().
 */
export const PROCESS_RUNNER = "ops/process.ts";
const CHILD_PROCESS_MESSAGE = `Start local processes with ${PROCESS_RUNNER} (run, runSync, startDetached), the one process runner (docs/architecture.md).`;
const CHILD_PROCESS_SYNTAX = [
  { selector: "ImportExpression[source.value=/^(node:)?child_process$/]", message: CHILD_PROCESS_MESSAGE },
  { selector: "CallExpression[callee.name='require'][arguments.0.value=/^(node:)?child_process$/]", message: CHILD_PROCESS_MESSAGE },
];

/** The repository root: zones are resolved against it, whatever directory eslint runs from. */
const ROOT = import.meta.dirname;

export default tseslint.config(
  { ignores: ["node_modules/**", "bin/**", ".lab/**", "app/**/*.py", "app/**/__pycache__/**", "**/*.js", "**/*.mjs"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-require-imports": "off",
    },
  },
  // Import boundaries of production code. import-x resolves each import (static, `import()`, `export … from`,
  // `import x = require()`, and a `require()` of a literal: the rule visits CommonJS too) to a file and checks
  // it against the zones. components/providers/factory.ts require()s only the stack's own provider module.
  {
    files: ["**/*.ts"],
    ignores: ["**/*.test.ts", "test/**", "bench/**"],
    plugins: { "import-x": importX },
    settings: { "import-x/resolver-next": [createNodeResolver({ extensions: [".ts", ".js", ".json", ".node"] })] },
    rules: {
      "import-x/no-restricted-paths": [
        "error",
        {
          basePath: ROOT,
          zones: LAYERS.map((l) => ({
            target: l.target,
            from: l.forbidden,
            message: `Layers only look down: ${l.why} (docs/architecture.md).`,
          })),
        },
      ],
      "no-restricted-syntax": ["error", ...CHILD_PROCESS_SYNTAX],
      "@typescript-eslint/no-restricted-imports": [
        "error",
        { paths: ["node:child_process", "child_process"].map((name) => ({ name, message: CHILD_PROCESS_MESSAGE })) },
      ],
    },
  },
  // The one process runner itself.
  {
    files: [PROCESS_RUNNER],
    rules: {
      "no-restricted-syntax": "off",
      "@typescript-eslint/no-restricted-imports": "off",
    },
  },
  // Small, named pieces (issue 13): production functions stay under 80 lines (blank lines and comments not
  // counted) and take at most 5 parameters — more become one named inputs object. Tests and benches are exempt:
  // a test's body is its table of cases.
  {
    files: ["**/*.ts"],
    ignores: ["**/*.test.ts", "test/**", "bench/**"],
    rules: {
      "max-lines-per-function": ["error", { max: 80, skipBlankLines: true, skipComments: true }],
      "max-params": ["error", 5],
      // Where a value may be missing the type says so and the code checks it (issue 13): no `x!`.
      "@typescript-eslint/no-non-null-assertion": "error",
    },
  },
);
