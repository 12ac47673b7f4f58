/**
 * V8 flags of the long-lived Node processes `mesh up` starts (supervisor, proxy, sidecar host).
 * Measured with `npm run bench -- --suite host`: a small young generation (1 MiB semi-spaces instead
 * of up to 16) keeps an idle process's RSS down; the routed-call throughput it costs is measured
 * in the same suite. MESH_NODE_FLAGS (space-separated) replaces them, e.g. MESH_NODE_FLAGS="" for none.
 */
export function leanNodeFlags(env: NodeJS.ProcessEnv = process.env): string[] {
  const given = env.MESH_NODE_FLAGS;
  if (given !== undefined) return given.split(/\s+/).filter(Boolean);
  return ['--max-semi-space-size=1'];
}
