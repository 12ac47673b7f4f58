import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { root } from '../helpers/processes.js';
import { startProxy } from '../helpers/proxy.js';
import { startSidecar } from '../helpers/sidecar.js';

// examples/python/mesh.py (standard library only) against a real proxy with a token and the Python
// fs server behind a real sidecar: calls, listings, typed errors, threads, the audit's caller; then
// the example app that replaced the request.json/response.json polling loop.
const token = 'py-client-token';
const proxy = await startProxy(t, { token });
await startSidecar(t, { name: 'fs', command: ['python3', join(root, 'examples/fs_server.py'), '--root', join(root, 'examples/texts')], proxy: proxy.base, token });
const env = { MESH_PROXY_URL: proxy.base, MESH_TOKEN: token, MESH_CALLER: 'python-check' };
const python = (args: string[]) => execa('python3', args, { env, reject: false, timeout: 60_000, stdin: 'ignore' });

t.test('the Python client: calls, listings, typed errors naming the problem, threads', async (t) => {
  const run = await python([join(root, 'test/fixtures/python_client_check.py')]);
  t.equal(run.exitCode, 0, String(run.stderr));
  const report = JSON.parse(String(run.stdout));
  t.equal(report.caller, 'python-check', 'the caller comes from MESH_CALLER');
  t.equal(report.waited, 'healthy');
  t.ok(report.services.includes('fs'), 'services() lists fs');
  t.same(report.tools, ['analyze_narrative_structure', 'list_files', 'read_text', 'search_text', 'write_text']);
  t.equal(report.status, 'healthy');
  t.ok(report.words > 100, `structured data of the analysis (${report.words} words)`);
  t.equal(report.text.length > 0 && report.text.length <= 60, true, `keyword and dict arguments together (${JSON.stringify(report.text)})`);
  t.match(report.tool_error, { type: 'ToolError', code: 'TOOL_ERROR', service: 'fs', tool: 'read_text', message: /missing\.txt/ });
  t.match(report.no_service, { type: 'ServiceNotFound', code: 'SERVICE_NOT_FOUND', status: 404, service: 'nope', message: /nope/ });
  t.match(report.no_tool, { type: 'ToolNotFound', code: 'TOOL_NOT_FOUND', message: /no_such_tool/ });
  t.match(report.bad_arguments, { type: 'MeshError', code: 'TOOL_ERROR', status: 400, message: /argument 'path' must be of type string/ }, "arguments the tool refuses are the caller's error (400)");
  t.match(report.no_token, { type: 'Unauthorized', code: 'UNAUTHORIZED', status: 401 });
  t.match(report.wrong_token, { type: 'Unauthorized', status: 401 });
  t.match(report.unreachable, { type: 'ProxyUnreachable', code: 'PROXY_UNREACHABLE', status: null, message: /127\.0\.0\.1:1/ });
  t.match(report.wait_timeout, { type: 'ServiceUnavailable', message: /ghost did not become healthy within 0\.3 s \(last seen: .*ghost/ });
  t.match(report.wait_no_proxy, { type: 'ServiceUnavailable', message: /last seen: cannot reach the mesh proxy at http:\/\/127\.0\.0\.1:1/ }, 'a proxy not (yet) there counts as not yet');
  t.equal(report.threaded.calls, 32);
  t.equal(report.threaded.distinct.length, 1, "one client shared by 8 threads: every answer is its own call's");

  const audit = await fetch(`${proxy.base}/v1/audit?service=fs&limit=200`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.json() as Promise<{ entries: { caller?: string }[] }>);
  const mine = audit.entries.filter((entry) => entry.caller === 'python-check');
  t.ok(mine.length >= 34, `the audit trail names the Python caller (${mine.length} rows)`);
});

t.test('the example app that replaced the polling loop', async (t) => {
  const run = await python([join(root, 'examples/python/chapter_report.py'), 'chapter1.txt', 'chapter2.txt']);
  t.equal(run.exitCode, 0, String(run.stderr));
  t.match(String(run.stdout), /^chapter1\.txt: \d+ words, dialogue ratio [\d.]+, [\d.]+ min to read, headings: .+\nchapter2\.txt: \d+ words/);
  const missing = await python([join(root, 'examples/python/chapter_report.py'), 'no-such-chapter.txt']);
  t.equal(missing.exitCode, 1, 'a chapter fs cannot read exits 1');
  t.match(String(missing.stderr), /no-such-chapter\.txt: fs refused: /);
});
