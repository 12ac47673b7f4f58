export * from './schema.js';
export { inspectManifest, inspectManifestFile, loadManifest, parseManifest, renderProblem, type ManifestInspection, type ManifestProblem } from './load.js';
export { expandHome, resolveAgainst, type ResolvedManifest, type ResolvedService } from './resolve-paths.js';
export { checkManifestPaths, type PathProblem } from './check-paths.js';
export { checkManifestPorts, type PortProblem } from './check-ports.js';
export { lineOfField } from './yaml-positions.js';
export { importMcpConfig, normalizeServiceName, McpConfigSchema, type McpConfig, type ImportResult, type SkippedServer, type RenamedServer } from './import.js';
export type { ToYamlOptions } from './to-yaml.js';
export { manifestJsonSchema, manifestJsonSchemaText } from './json-schema.js';
