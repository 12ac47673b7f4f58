import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { isPair, isScalar, isSeq, LineCounter, parse, parseDocument, visit, type Document } from 'yaml';
import { MeshError } from '../errors.js';
import { fieldProblems } from './issues.js';
import { interpolate } from './interpolate.js';
import { resolvePaths, type ResolvedManifest } from './resolve-paths.js';
import { ManifestSchema, ProxySchema, ServiceNameSchema, ServiceSchema, type Service } from './schema.js';
import { formatPath, lineOfPath } from './yaml-positions.js';

/** One located problem: rendered as `file:line: field: message`. */
export interface ManifestProblem {
  file: string;
  line: number;
  /** Dotted field path (`services.fs.args`); empty for the document itself. */
  field: string;
  message: string;
}

/** A problem as `file:line: field: message` (no field for the document itself). */
export function renderProblem(problem: ManifestProblem): string {
  return problem.field === '' ? `${problem.file}:${problem.line}: ${problem.message}` : `${problem.file}:${problem.line}: ${problem.field}: ${problem.message}`;
}

function invalid(file: string, problems: ManifestProblem[]): MeshError {
  const text = problems.map(renderProblem).join('\n');
  return new MeshError('MANIFEST_INVALID', problems.length === 1 ? text : `${file}: ${problems.length} problems\n${text}`, {
    context: { file, problems },
  });
}

// Field path of a node from the ancestors yaml's visitor hands over.
function pathOf(ancestors: readonly unknown[], node: unknown): PropertyKey[] {
  const path: PropertyKey[] = [];
  ancestors.forEach((ancestor, i) => {
    const child = ancestors[i + 1] ?? node;
    if (isSeq(ancestor)) path.push(ancestor.items.indexOf(child));
    else if (isPair(ancestor)) path.push(isScalar(ancestor.key) ? String(ancestor.key.value) : String(ancestor.key));
  });
  return path;
}

// Interpolates every string value in place; an unquoted value that became a number or boolean
// (`port: ${PORT:-6001}`) is typed as YAML would have typed it written literally.
function interpolateDocument(doc: Document, lineCounter: LineCounter, file: string, env: Readonly<Record<string, string | undefined>>): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  visit(doc, {
    Scalar(key, node, ancestors) {
      if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('$')) return;
      const { value, unset } = interpolate(node.value, env);
      const line = node.range === undefined || node.range === null ? 1 : lineCounter.linePos(node.range[0]).line;
      for (const name of unset) {
        problems.push({ file, line, field: formatPath(pathOf(ancestors, node)), message: `environment variable ${name} is not set (write \${${name}:-default} for a fallback)` });
      }
      const retyped = node.type === 'PLAIN' && value !== node.value ? (parse(value) as unknown) : value;
      node.value = typeof retyped === 'number' || typeof retyped === 'boolean' ? retyped : value;
    },
  });
  return problems;
}

/** A manifest text's problems, and the manifest itself when its shape is valid (even with problems). */
export interface ManifestInspection {
  manifest?: ResolvedManifest;
  /** The manifest, or when its shape is wrong the services whose own fields are valid (for content checks). */
  checkable?: ResolvedManifest;
  problems: ManifestProblem[];
}

// What of an invalid manifest can still be checked: unknown keys ignored, a service with a wrong
// field left out, the proxy section falling back to its defaults.
function checkablePart(data: unknown, file: string): ResolvedManifest {
  const raw = (data ?? {}) as { proxy?: unknown; services?: unknown };
  const proxy = z.object(ProxySchema.shape).safeParse(raw.proxy ?? {});
  const lenientService = z.object(ServiceSchema.shape);
  const services: Record<string, Service> = {};
  if (raw.services !== null && typeof raw.services === 'object') {
    for (const [name, service] of Object.entries(raw.services)) {
      const parsed = lenientService.safeParse(service);
      if (parsed.success && ServiceNameSchema.safeParse(name).success) services[name] = parsed.data;
    }
  }
  return resolvePaths({ version: 1, proxy: proxy.success ? proxy.data : ProxySchema.parse({}), services, views: {} }, file);
}

/**
 * Every problem of a manifest text at once: YAML syntax, unset `${VAR}`s and schema problems
 * together (a field emptied by an unset variable is reported once, as the variable). `manifest`
 * is set when the shape is valid; `checkable` holds what content checks (paths, ports) can still
 * look at when it is not.
 * @example const { manifest, problems } = inspectManifest(text, 'configs/x.yaml', process.env)
 */
export function inspectManifest(text: string, file: string, env: Readonly<Record<string, string | undefined>> = process.env): ManifestInspection {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map((error) => ({
        file,
        line: error.linePos?.[0].line ?? 1,
        field: '',
        message: `YAML syntax error: ${(error.message.split('\n')[0] ?? error.code).replace(/ at line \d+, column \d+:?$/, '')}`,
      })),
    };
  }
  const unset = interpolateDocument(doc, lineCounter, file, env);
  const data: unknown = doc.toJS() ?? {};
  const result = ManifestSchema.safeParse(data);
  const unsetFields = new Set(unset.map((problem) => problem.field));
  const schemaProblems = result.success
    ? []
    : fieldProblems(result.error.issues, ManifestSchema, data)
        .map((problem) => ({ file, line: lineOfPath(doc, lineCounter, problem.path), field: formatPath(problem.path), message: problem.message }))
        .filter((problem) => !unsetFields.has(problem.field));
  const problems = [...unset, ...schemaProblems].sort((a, b) => a.line - b.line);
  if (!result.success) return { checkable: checkablePart(data, file), problems };
  const manifest = resolvePaths(result.data, file);
  return { manifest, checkable: manifest, problems };
}

/**
 * Parses and validates manifest text; `file` names it in errors and anchors relative paths.
 * Throws a MeshError `MANIFEST_INVALID` whose message has one `file:line: field: message` line
 * per problem (also in `context.problems`).
 * @example parseManifest('version: 1\nservices:\n  fs: { command: python3 }\n', 'configs/x.yaml', process.env)
 */
export function parseManifest(text: string, file: string, env: Readonly<Record<string, string | undefined>> = process.env): ResolvedManifest {
  const { manifest, problems } = inspectManifest(text, file, env);
  if (problems.length > 0 || manifest === undefined) throw invalid(file, problems);
  return manifest;
}

// The manifest file's text; an unreadable file is MANIFEST_INVALID naming it.
async function readManifestText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (cause) {
    throw new MeshError('MANIFEST_INVALID', `${file}: cannot read the manifest (${(cause as NodeJS.ErrnoException).code ?? String(cause)})`, { cause, context: { file } });
  }
}

/**
 * Reads, validates and normalizes a manifest file (defaults filled, paths absolute).
 * @example const manifest = await loadManifest('configs/demo.yaml')
 */
export async function loadManifest(file: string, env: Readonly<Record<string, string | undefined>> = process.env): Promise<ResolvedManifest> {
  return parseManifest(await readManifestText(file), file, env);
}

/**
 * Reads a manifest file and returns every problem of it instead of throwing on the first kind
 * (`mesh validate`); an unreadable file still throws MANIFEST_INVALID.
 * @example const { manifest, problems } = await inspectManifestFile('configs/x.yaml')
 */
export async function inspectManifestFile(file: string, env: Readonly<Record<string, string | undefined>> = process.env): Promise<ManifestInspection & { text: string }> {
  const text = await readManifestText(file);
  return { ...inspectManifest(text, file, env), text };
}
