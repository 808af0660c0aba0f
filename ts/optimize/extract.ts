/**
 * The model's proposal is the last fenced block of its reply. Fences are matched non-greedily and by length (a
 * block opened with ```` closes with ````), so that a reply's earlier examples or nested fences do not swallow it.
 */
const FENCED_BLOCK = /^(`{3,}|~{3,})[^\n`]*\n([\s\S]*?)^\1[ \t]*$/gm;

export function lastFencedBlock(reply: string): string | undefined {
  let last: string | undefined;
  for (const match of reply.matchAll(FENCED_BLOCK)) last = match[2];
  return last?.replace(/\n$/, '');
}
