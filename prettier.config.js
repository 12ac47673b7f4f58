// Prettier, set to the code base's own style: single quotes, semicolons, trailing commas, long lines.
// printWidth 200 changed the fewest lines of the options measured (140, 160, 180, 200; see README
// "Development"); wider still saves little and leaves lines no one reads in one glance.
/** @type {import('prettier').Config} */
export default {
  printWidth: 200,
  singleQuote: true,
  semi: true,
  trailingComma: 'all',
  arrowParens: 'always',
  endOfLine: 'lf',
};
