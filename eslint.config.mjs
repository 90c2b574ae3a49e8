// Lint TypeScript sources with the recommended rule sets; generated and vendored trees are ignored.
// Formatting is Prettier's alone (`npm run format`; `npm run lint` checks it), so eslint-config-prettier turns off
// every stylistic rule that could disagree with it.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import prettier from "eslint-config-prettier";

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
);
