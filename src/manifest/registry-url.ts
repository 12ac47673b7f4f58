/** True when a registry value (`--registry`, the manifest's `proxy.registry`) names a PostgreSQL database rather than a file. */
export function isPostgresUrl(value: string | undefined): value is string {
  return value !== undefined && /^postgres(ql)?:\/\//i.test(value);
}
