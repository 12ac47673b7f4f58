import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { MeshError } from '../../../src/errors.js';
import { checkManifestPaths, lineOfField, loadManifest, type ManifestProblem, type ResolvedManifest } from '../../../src/manifest/index.js';
import { EXIT } from '../errors.js';
import { manifestProxyUrl } from '../proxy-url.js';
import { jsonText, outputMode, paint } from '../output.js';

interface ValidateOptions {
  json?: boolean;
  paths: boolean;
}

// Two services (or replicas) on one fixed port: the second sidecar could never bind it.
function portClashes(manifest: ResolvedManifest): { service: string; message: string }[] {
  const owners = new Map<number, string>();
  const clashes: { service: string; message: string }[] = [];
  for (const [name, service] of Object.entries(manifest.services)) {
    if (!service.enabled || service.port === undefined || service.port === 0) continue;
    for (let replica = 0; replica < service.replicas; replica++) {
      const port = service.port + replica;
      const owner = owners.get(port);
      if (owner !== undefined && owner !== name) clashes.push({ service: name, message: `port ${port} is also ${owner}'s (replicas use port, port+1, ...)` });
      owners.set(port, name);
    }
  }
  return clashes;
}

// Problems found after loading (missing folders, programs, port clashes), located in the file.
async function laterProblems(file: string, manifest: ResolvedManifest, paths: boolean): Promise<ManifestProblem[]> {
  const text = await readFile(file, 'utf8');
  const found = [
    ...(paths ? (await checkManifestPaths(manifest)).map((p) => ({ service: p.service, field: p.field, message: p.message })) : []),
    ...portClashes(manifest).map((c) => ({ ...c, field: 'port' })),
  ];
  return found.map((p) => ({ file, line: lineOfField(text, ['services', p.service, p.field]), field: `services.${p.service}.${p.field}`, message: p.message }));
}

/** `mesh validate FILE`: checks a manifest without starting anything. */
export function validateCommand(): Command {
  return new Command('validate')
    .summary('check a manifest; problems as FILE:LINE: FIELD: MESSAGE')
    .description('Check a manifest without starting anything: schema, ${VAR} interpolation, folders and programs of enabled services, port clashes')
    .argument('<file>', 'the manifest')
    .option('--no-paths', 'skip the checks of cwd folders and commands (e.g. for a template)')
    .option('--json', 'print JSON: { file, valid, problems: [{ file, line, field, message }], services }')
    .addHelpText('after', '\nEvery problem is printed as FILE:LINE: FIELD: MESSAGE. Exit status 1 when there is any.\n\nExamples:\n  mesh validate configs/demo.yaml\n  mesh validate configs/factory.yaml --json\n')
    .action(async (file: string, options: ValidateOptions) => {
      process.exitCode = await validate(file, options);
    });
}

async function validate(file: string, options: ValidateOptions): Promise<number> {
  const out = outputMode(options);
  let manifest: ResolvedManifest;
  let problems: ManifestProblem[];
  try {
    manifest = await loadManifest(file);
    problems = await laterProblems(file, manifest, options.paths);
  } catch (error) {
    if (!(error instanceof MeshError) || error.code !== 'MANIFEST_INVALID') throw error;
    const listed = (error.context.problems as ManifestProblem[] | undefined) ?? [];
    if (out.json) process.stdout.write(jsonText({ file, valid: false, problems: listed, message: error.message }));
    else process.stderr.write(`${error.message}\n`);
    return EXIT.failed;
  }
  const services = Object.entries(manifest.services).map(([name, s]) => ({ name, kind: s.kind, enabled: s.enabled, replicas: s.replicas }));
  if (out.json) {
    process.stdout.write(jsonText({ file, valid: problems.length === 0, problems, proxy: manifestProxyUrl(manifest.proxy), services }));
    return problems.length === 0 ? EXIT.ok : EXIT.failed;
  }
  if (problems.length > 0) {
    process.stderr.write(`${problems.length > 1 ? `${file}: ${problems.length} problems\n` : ''}${problems.map((p) => `${p.file}:${p.line}: ${p.field}: ${p.message}`).join('\n')}\n`);
    return EXIT.failed;
  }
  const enabled = services.filter((s) => s.enabled).map((s) => s.name);
  const disabled = services.filter((s) => !s.enabled).map((s) => s.name);
  const parts = [`${enabled.length} enabled${enabled.length > 0 ? ` (${enabled.join(', ')})` : ''}`];
  if (disabled.length > 0) parts.push(`${disabled.length} disabled (${disabled.join(', ')})`);
  process.stdout.write(`${paint(out, 'green', `${file}: valid`)}; services: ${parts.join(', ')}; proxy ${manifestProxyUrl(manifest.proxy)}\n`);
  return EXIT.ok;
}
