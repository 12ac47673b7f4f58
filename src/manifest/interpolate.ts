/** Where `${VAR}` without a default referred to an unset variable. */
export interface UnsetVariable {
  name: string;
}

const REFERENCE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${VAR}` and `${VAR:-default}` from `env` (the default also applies to an empty
 * value, as in the shell); `$$` is a literal `$`. Unset variables without a default are returned
 * in `unset` and replaced by the empty string.
 * @example interpolate('${HOME}/x', { HOME: '/h' }) // { value: '/h/x', unset: [] }
 */
export function interpolate(text: string, env: Readonly<Record<string, string | undefined>>): { value: string; unset: string[] } {
  const unset: string[] = [];
  const value = text.replace(REFERENCE, (match, name: string | undefined, fallback: string | undefined) => {
    if (match === '$$') return '$';
    const found = env[name ?? ''];
    if (found !== undefined && found !== '') return found;
    if (fallback !== undefined) return fallback;
    if (found === undefined) unset.push(name ?? '');
    return '';
  });
  return { value, unset };
}
