// cmc's own chapter-quality metrics: pure functions over a chapter's text (no I/O, no mesh).

/** Prose-quality measurements of one chapter, as cmc computes them. */
export interface ChapterMetrics {
  words: number;
  sentences: number;
  /** Mean and spread of sentence length in words: a low spread reads monotonously. */
  sentenceLength: { mean: number; stdev: number; longest: number };
  /** Sentences of more than 35 words. */
  longSentences: number;
  /** Distinct words / words over the first 1,000 words (comparable between chapters of any length). */
  lexicalDiversity: number;
  /** -ly adverbs per 100 words. */
  adverbsPer100: number;
  /** Filler words ("very", "really", "just", "suddenly"...) per 100 words. */
  fillersPer100: number;
  /** Mean paragraph length in words. */
  paragraphLength: number;
}

/** The part of fs's analyze_narrative_structure answer that the score uses. */
export interface NarrativeFacts {
  word_count?: number;
  dialogue_ratio?: number;
  chapter_headings?: unknown[];
  reading_time_minutes?: number;
}

const WORD = /[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu;
const NOT_ADVERBS = new Set([
  'only',
  'early',
  'family',
  'holy',
  'ugly',
  'lonely',
  'lovely',
  'friendly',
  'silly',
  'belly',
  'jelly',
  'reply',
  'apply',
  'supply',
  'italy',
  'daily',
  'likely',
  'july',
  'fly',
  'ally',
  'rely',
  'curly',
  'oily',
  'chilly',
  'hilly',
]);
const FILLERS = new Set(['very', 'really', 'just', 'suddenly', 'quite', 'rather', 'somehow', 'actually', 'basically', 'literally', 'seemed', 'totally']);

function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/**
 * Measures a chapter's prose.
 * @example chapterMetrics('"Hi," she said. He nodded slowly.').adverbsPer100 // 16.67
 */
export function chapterMetrics(text: string): ChapterMetrics {
  const words = (text.match(WORD) ?? []).map((w) => w.toLowerCase());
  const sentences = text
    .split(/(?<=[.!?])["'”’)\]]*\s+/)
    .map((s) => (s.match(WORD) ?? []).length)
    .filter((n) => n > 0);
  const paragraphs = text
    .split(/\n\s*\n/)
    .map((p) => (p.match(WORD) ?? []).length)
    .filter((n) => n > 0);
  const mean = sentences.length ? sentences.reduce((a, b) => a + b, 0) / sentences.length : 0;
  const variance = sentences.length ? sentences.reduce((a, n) => a + (n - mean) ** 2, 0) / sentences.length : 0;
  const sample = words.slice(0, 1000);
  const per100 = (count: number) => (words.length ? round((count / words.length) * 100) : 0);
  return {
    words: words.length,
    sentences: sentences.length,
    sentenceLength: { mean: round(mean, 1), stdev: round(Math.sqrt(variance), 1), longest: Math.max(0, ...sentences) },
    longSentences: sentences.filter((n) => n > 35).length,
    lexicalDiversity: sample.length ? round(new Set(sample).size / sample.length, 3) : 0,
    adverbsPer100: per100(words.filter((w) => w.length > 4 && w.endsWith('ly') && !NOT_ADVERBS.has(w)).length),
    fillersPer100: per100(words.filter((w) => FILLERS.has(w)).length),
    paragraphLength: paragraphs.length ? round(paragraphs.reduce((a, b) => a + b, 0) / paragraphs.length, 1) : 0,
  };
}

/** A 0-100 score with the reasons points were taken off (cmc's metrics plus fs's narrative facts). */
export interface QualityVerdict {
  score: number;
  grade: 'A' | 'B' | 'C' | 'D';
  findings: string[];
}

/**
 * Scores a chapter from both analyses: cmc's prose metrics and fs's narrative structure.
 * @example qualityVerdict(chapterMetrics(text), { dialogue_ratio: 0.2 }).grade // 'A'
 */
export function qualityVerdict(metrics: ChapterMetrics, narrative: NarrativeFacts): QualityVerdict {
  const findings: string[] = [];
  let score = 100;
  const take = (points: number, finding: string) => {
    score -= points;
    findings.push(finding);
  };
  if (metrics.words < 150) take(10, `short for a chapter (${metrics.words} words)`);
  if (metrics.sentences >= 5 && metrics.sentenceLength.stdev < 4) take(10, `monotonous rhythm: sentence lengths vary little (stdev ${metrics.sentenceLength.stdev} words)`);
  if (metrics.longSentences > 0) take(Math.min(15, 5 * metrics.longSentences), `${metrics.longSentences} sentence(s) over 35 words (longest ${metrics.sentenceLength.longest})`);
  if (metrics.lexicalDiversity < 0.4) take(10, `repetitive vocabulary (lexical diversity ${metrics.lexicalDiversity})`);
  if (metrics.adverbsPer100 > 2) take(Math.min(15, Math.round((metrics.adverbsPer100 - 2) * 5)), `adverb-heavy (${metrics.adverbsPer100} -ly adverbs per 100 words)`);
  if (metrics.fillersPer100 > 1.5) take(Math.min(15, Math.round((metrics.fillersPer100 - 1.5) * 5)), `filler words (${metrics.fillersPer100} per 100 words)`);
  const dialogue = narrative.dialogue_ratio;
  if (typeof dialogue === 'number') {
    if (dialogue === 0) take(5, 'no dialogue at all (fs: dialogue_ratio 0)');
    else if (dialogue > 0.7) take(10, `mostly dialogue (fs: dialogue_ratio ${dialogue}): little scene or interiority`);
  }
  if (Array.isArray(narrative.chapter_headings) && narrative.chapter_headings.length === 0) findings.push('no chapter heading (fs found none)');
  if (findings.length === 0) findings.push('no problems found');
  const final = Math.max(0, Math.min(100, score));
  const grade = final >= 85 ? 'A' : final >= 70 ? 'B' : final >= 55 ? 'C' : 'D';
  return { score: final, grade, findings };
}
