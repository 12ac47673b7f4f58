// An app that uses the mesh: lists the services, then asks fs (a Python server behind a sidecar)
// and cmc (a native TypeScript instance that itself calls fs) about a chapter.
//
//   node dist/examples/app/index.js [chapter.txt]      (MESH_PROXY_URL, default http://127.0.0.1:6001)
import { MeshClient, MeshError, text, ToolError } from '../../src/client/index.js'; // in your project: from 'mm-mesh/client'

const chapter = process.argv[2] ?? 'chapter1.txt';

await using mesh = new MeshClient({ caller: 'story-app', timeoutMs: 30_000 });
try {
  await Promise.all([mesh.waitFor('fs', { timeout: 15_000 }), mesh.waitFor('cmc', { timeout: 15_000 })]);

  console.log(`services at ${mesh.proxy}:`);
  for (const service of await mesh.services()) {
    const kinds = [...new Set(service.instances.map((i) => i.kind))].join('/');
    console.log(`  ${service.name.padEnd(12)} ${service.status.padEnd(10)} ${kinds.padEnd(8)} ${service.toolCount} tools`);
  }

  // fs alone: the narrative structure of the chapter (fs answers JSON as text).
  const narrative = JSON.parse(text(await mesh.call('fs', 'analyze_narrative_structure', { path: chapter }))) as {
    word_count: number;
    dialogue_ratio: number;
    chapter_headings: { text: string }[];
  };
  console.log(
    `\nfs.analyze_narrative_structure ${chapter}: ${narrative.word_count} words, dialogue ratio ${narrative.dialogue_ratio}, ` +
      `headings: ${narrative.chapter_headings.map((h) => JSON.stringify(h.text)).join(', ') || '(none)'}`,
  );

  // cmc: its own metrics combined with fs's analysis, which cmc fetched through the mesh.
  const quality = (await mesh.call('cmc', 'analyze_chapter_quality', { path: chapter })).structuredContent as {
    score: number;
    grade: string;
    findings: string[];
    quality: { sentenceLength: { mean: number; stdev: number }; lexicalDiversity: number };
    narrative: { dialogue_ratio: number };
    sources: { calledAs: string; hops: number };
  };
  console.log(`cmc.analyze_chapter_quality ${chapter}: score ${quality.score} (grade ${quality.grade})`);
  console.log(`  cmc metrics: sentences ${quality.quality.sentenceLength.mean} ± ${quality.quality.sentenceLength.stdev} words, lexical diversity ${quality.quality.lexicalDiversity}`);
  console.log(`  from fs (cmc called it as "${quality.sources.calledAs}", hop ${quality.sources.hops + 1}): dialogue ratio ${quality.narrative.dialogue_ratio}`);
  for (const finding of quality.findings) console.log(`  - ${finding}`);
} catch (error) {
  // Typed errors: ToolError carries the tool's own message; other MeshErrors name service and tool.
  if (error instanceof ToolError) console.error(`a tool failed: ${error.message}`);
  else if (error instanceof MeshError) console.error(`mesh error ${error.code}: ${error.message}`);
  else throw error;
  process.exitCode = 1;
}
