// @ts-check
// ESLint for MM: typescript-eslint's recommended sets, type-aware (no-floating-promises,
// no-misused-promises, await-thenable...), plus the rules this project lives by: src/ never imports
// proxy/ or sidecar/, media types are parsed and never substring-matched, library code never calls
// process.exit. Run by `npm test` (`npm run lint`); test/unit/lint-rules.test.ts proves the project rules.
import eslint from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// A string that names a media type (`application/json`, `text/event-stream`, `text/…`) or the
// bare subtype a substring check looks for (`json`, `event-stream`). esquery's regex syntax has no
// room for a literal slash, hence \x2F.
const MEDIA_TYPE = String.raw`/^(?:(?:application|text|multipart|image|audio|video|font|model|message)\x2F|\+?json$|event-stream$)/i`;
const SUBSTRING_METHODS = ['includes', 'indexOf', 'lastIndexOf', 'startsWith', 'endsWith', 'search', 'match'];

/** Media types are parsed, never matched by substring (the SDK's own ESLint config bans the same). */
const mediaTypeSubstring = {
  selector:
    `CallExpression:matches(${SUBSTRING_METHODS.map((m) => `[callee.property.name='${m}']`).join(', ')})` +
    `:matches([arguments.0.value=${MEDIA_TYPE}], [arguments.0.quasis.0.value.cooked=${MEDIA_TYPE}])`,
  message: "Media types are parsed, never substring-matched ('text/plain; x=application/json' is not JSON; case and parameters vary): use node:util MIMEType or the SDK's isJsonContentType.",
};

// src/ is the library: it never reaches into the daemons (the CLIs and proxy import src, not the other way).
const LAYER_MESSAGE = 'src/ is the library that proxy/ and sidecar/ import; it never imports them. Move the shared code into src/.';
const srcNeverImportsDaemons = {
  selector: String.raw`ImportExpression[source.value=/(?:^|\x2F)(?:proxy|sidecar)(?:\x2F|$)/]`,
  message: LAYER_MESSAGE,
};

export default defineConfig(
  {
    // Build output, tap's run data, benchmark results and the dependencies are not sources.
    ignores: ['dist/**', '.tap/**', 'node_modules/**', 'test/bench/results/**'],
  },
  eslint.configs.recommended,
  {
    rules: { 'no-restricted-syntax': ['error', mediaTypeSubstring] },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: { globals: globals.node },
  },
  {
    // The dashboard's browser scripts (served as they are, no build step).
    files: ['proxy/dashboard/client/**/*.js'],
    languageOptions: { globals: globals.browser, sourceType: 'module' },
  },
  {
    files: ['**/*.ts', '**/*.tsx'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // tap's t.test() returns a promise that tap itself awaits before the parent test ends.
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafePromises: [{ from: 'package', name: 'PromiseWithSubtest', package: '@tapjs/core' }] }],
      // `_`-prefixed names are deliberate: unused parameters of an interface, and fields dropped
      // from an object by destructuring (`const { claim: _claim, ...rest } = input`).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // `async` marks methods whose contract is a promise (Transport.send, close, progress) so a throw
      // becomes a rejection; they need no await inside.
      '@typescript-eslint/require-await': 'off',
      // `RegistrationInput | unknown` and `string | 'full'` spell the expected shape or the sentinel for
      // the reader, though the wider type absorbs it.
      '@typescript-eslint/no-redundant-type-constituents': 'off',
      // Messages stringify loosely typed wire and YAML values on purpose (`String(params.reason ?? 'x')`);
      // the rule reads `unknown ?? 'x'` as `{}` and flags it.
      '@typescript-eslint/no-base-to-string': 'off',
      // An abort signal's reason or a caught error (any/unknown) is passed on as it is; literal strings
      // and plain objects are still refused.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
      // ProtocolError.code is a plain number and the SDK's ProtocolErrorCode an enum: comparing the two
      // is the SDK's own idiom.
      '@typescript-eslint/no-unsafe-enum-comparison': 'off',
      // A variable read by a callback before its one assignment (the session map's transport) stays `let`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Tests read untyped wire JSON (response.json(), raw JSON-RPC bodies) on purpose and assert its shape.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: String.raw`^(?:\.\./)+(?:proxy|sidecar)(?:/|$)`, message: LAYER_MESSAGE }] }],
      'no-restricted-syntax': ['error', mediaTypeSubstring, srcNeverImportsDaemons],
      // Only the CLI files end the process; library code throws a MeshError and lets its caller decide.
      'no-restricted-properties': ['error', { object: 'process', property: 'exit', message: 'Library code never calls process.exit: throw a MeshError; only the CLI files exit.' }],
    },
  },
);
