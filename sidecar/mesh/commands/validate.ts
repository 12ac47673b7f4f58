import { Command } from 'commander';
import { MeshError } from '../../../src/errors.js';
import { checkManifestPaths, checkManifestPorts, inspectManifestFile, lineOfField, renderProblem, type ManifestProblem, type ResolvedManifest } from '../../../src/manifest/index.js';
import { EXIT } from '../errors.js';
import { manifestProxyUrl } from '../proxy-url.js';
import { jsonText, outputMode, paint } from '../output.js';

interface ValidateOptions {
  json?: boolean;
  paths: boolean;
}

// Problems found in a loaded manifest (missing folders, programs, port clashes), located in the file.
async function laterProblems(file: string, text: string, manifest: ResolvedManifest, paths: boolean): Promise<ManifestProblem[]> {
  const found = [
    ...(paths ? (await checkManifestPaths(manifest)).map((p) => ({ service: p.service, field: p.field, message: p.message })) : []),
    ...checkManifestPorts(manifest).map((c) => ({ ...c, field: 'port' })),
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
    .addHelpText(
      'after',
      '\nEvery problem is printed as FILE:LINE: FIELD: MESSAGE. Exit status 1 when there is any.\n\nExamples:\n  mesh validate configs/demo.yaml\n  mesh validate configs/factory.yaml --json\n',
    )
    .action(async (file: string, options: ValidateOptions) => {
      process.exitCode = await validate(file, options);
    });
}

async function validate(file: string, options: ValidateOptions): Promise<number> {
  const out = outputMode(options);
  let inspected: Awaited<ReturnType<typeof inspectManifestFile>>;
  try {
    inspected = await inspectManifestFile(file);
  } catch (error) {
    if (!(error instanceof MeshError) || error.code !== 'MANIFEST_INVALID') throw error;
    if (out.json) process.stdout.write(jsonText({ file, valid: false, problems: [], message: error.message }));
    else process.stderr.write(`${error.message}\n`);
    return EXIT.failed;
  }
  const { manifest, checkable, text } = inspected;
  // Content checks run beside schema problems and unset variables, so one run lists everything to fix.
  // A field already reported (a variable left it empty) is not reported again as a missing path.
  const reported = new Set(inspected.problems.map((p) => p.field));
  const later = checkable === undefined ? [] : (await laterProblems(file, text, checkable, options.paths)).filter((p) => !reported.has(p.field));
  const problems = [...inspected.problems, ...later].sort((a, b) => a.line - b.line);
  if (manifest === undefined || (problems.length > 0 && !out.json)) {
    if (out.json) process.stdout.write(jsonText({ file, valid: false, problems }));
    else process.stderr.write(`${problems.length > 1 ? `${file}: ${problems.length} problems\n` : ''}${problems.map(renderProblem).join('\n')}\n`);
    return EXIT.failed;
  }
  const services = Object.entries(manifest.services).map(([name, s]) => ({ name, kind: s.kind, enabled: s.enabled, replicas: s.replicas }));
  if (out.json) {
    process.stdout.write(jsonText({ file, valid: problems.length === 0, problems, proxy: manifestProxyUrl(manifest.proxy), services }));
    return problems.length === 0 ? EXIT.ok : EXIT.failed;
  }
  const enabled = services.filter((s) => s.enabled).map((s) => s.name);
  const disabled = services.filter((s) => !s.enabled).map((s) => s.name);
  const parts = [`${enabled.length} enabled${enabled.length > 0 ? ` (${enabled.join(', ')})` : ''}`];
  if (disabled.length > 0) parts.push(`${disabled.length} disabled (${disabled.join(', ')})`);
  const remotes = Object.keys(manifest.remotes);
  if (remotes.length > 0) parts.push(`${remotes.length} remote (${remotes.join(', ')})`);
  const views = Object.keys(manifest.views);
  if (views.length > 0) parts.push(`views: ${views.join(', ')}`);
  process.stdout.write(`${paint(out, 'green', `${file}: valid`)}; services: ${parts.join(', ')}; proxy ${manifestProxyUrl(manifest.proxy)}\n`);
  return EXIT.ok;
}
