import { MIMEType } from 'node:util';

// Parsed, never substring-matched: `text/plain; x=text/event-stream` is not a stream, and case and
// parameters vary (the lint rule no-restricted-syntax refuses `.includes('text/event-stream')`).
export function isEventStream(contentType: string | string[] | null | undefined): boolean {
  const value = Array.isArray(contentType) ? contentType[0] : contentType;
  if (!value) return false;
  try {
    return new MIMEType(value).essence === 'text/event-stream';
  } catch {
    return false;
  }
}
