// A local OTLP/HTTP trace receiver for the traced bench path, in a process of its own so its work
// is not the load generator's: accepts POST /v1/traces (JSON), counts the spans, answers 200.
// GET /stats answers { requests, spans }; the port is the first argument.
import { createServer } from 'node:http';

const port = Number(process.argv[2]);
const stats = { requests: 0, spans: 0 };

interface Export {
  resourceSpans?: { scopeSpans?: { spans?: unknown[] }[] }[];
}

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/stats') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats));
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    stats.requests++;
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Export;
      for (const resource of body.resourceSpans ?? []) for (const scope of resource.scopeSpans ?? []) stats.spans += scope.spans?.length ?? 0;
    } catch {
      // Not JSON (a protobuf exporter): counted as a request only.
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
