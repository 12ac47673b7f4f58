// cmc ("chapter metrics checker"): a native TypeScript mesh service. Its analyze_chapter_quality
// measures a chapter's prose itself and asks the Python fs server (through the mesh) for the
// chapter's text and narrative structure, then combines both into one verdict.
//
//   node dist/examples/cmc/index.js      (MESH_PROXY_URL, MESH_PORT, MESH_SERVICE_NAME... apply)
import { z } from 'zod';
import { createInstance, type ToolContext } from '../../src/index.js'; // in your project: from 'mm-mesh'
import { text } from '../../src/client/index.js'; // in your project: from 'mm-mesh/client'
import { chapterMetrics, qualityVerdict, type NarrativeFacts } from './chapter-quality.js';

const source = {
  path: z.string().min(1).optional().describe("a file of the fs service, e.g. 'chapter1.txt'"),
  text: z.string().min(1).optional().describe('the chapter text itself, instead of path'),
};
const exactlyOne = (args: { path?: string | undefined; text?: string | undefined }) => (args.path === undefined) !== (args.text === undefined);
const oneOf = { error: "pass exactly one of 'path' (a file of the fs service) or 'text'" };

// The chapter's text and fs's narrative analysis, both through the mesh, in parallel.
async function fromFs(args: { path?: string | undefined; text?: string | undefined }, ctx: ToolContext): Promise<{ chapter: string; narrative: NarrativeFacts }> {
  const [narrative, chapter] = await Promise.all([
    ctx.mesh.call('fs', 'analyze_narrative_structure', args.path !== undefined ? { path: args.path } : { text: args.text }),
    args.text ?? ctx.mesh.call('fs', 'read_text', { path: args.path }).then((result) => text(result)),
  ]);
  return { chapter, narrative: JSON.parse(text(narrative)) as NarrativeFacts };
}

const cmc = createInstance({
  name: process.env.MESH_SERVICE_NAME || 'cmc',
  description: "Chapter quality: prose metrics of its own, combined with the fs service's narrative analysis.",
  version: '1.0.0',
  tags: process.env.MESH_TAGS ? undefined : ['native', 'demo'],
})
  .tool(
    'analyze_chapter_quality',
    {
      description:
        "Scores a chapter's quality (0-100, grade, findings) from cmc's own prose metrics (sentence rhythm, " +
        "vocabulary, adverbs, fillers) and the fs service's narrative structure (dialogue ratio, headings, top words). " +
        "Pass exactly one of 'path' (a file of the fs service) or 'text'.",
      annotations: { readOnlyHint: true },
    },
    z.object(source).refine(exactlyOne, oneOf),
    async (args, ctx) => {
      await ctx.progress(0, 2, 'asking fs for the text and its narrative structure');
      const { chapter, narrative } = await fromFs(args, ctx);
      await ctx.progress(1, 2, 'measuring the prose');
      const quality = chapterMetrics(chapter);
      const verdict = qualityVerdict(quality, narrative);
      await ctx.progress(2, 2, 'done');
      return {
        chapter: args.path ?? '(text)',
        ...verdict,
        quality,
        narrative,
        sources: { quality: 'cmc', narrative: 'fs.analyze_narrative_structure', calledAs: ctx.mesh.caller, hops: ctx.hops },
      };
    },
  )
  .tool('chapter_metrics', "cmc's own prose metrics for a text (no other service involved).", { text: z.string().min(1).describe('the text to measure') }, ({ text: chapter }) => ({
    ...chapterMetrics(chapter),
  }));

try {
  const { url } = await cmc.start();
  process.stdout.write(`cmc: ${cmc.name} ready at ${url}\n`);
} catch (error) {
  process.stderr.write(`cmc: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
