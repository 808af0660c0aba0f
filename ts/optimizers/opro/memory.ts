/** One prompt the optimizer evaluated (the original tool's PromptCandidate, in its snake_case JSON form). */
export interface EvaluatedCandidate {
  readonly prompt: string;
  readonly reward: number;
  readonly ba_clip: number;
  readonly ba_conditions: number | null;
  readonly prompt_length: number;
  readonly iteration: number;
  /** Seconds since the epoch when the evaluation finished (recorded, so a resumed run replays it unchanged). */
  readonly timestamp: number;
  readonly metrics: Readonly<Record<string, unknown>>;
}

/**
 * Adds a candidate to the top-k memory: sorted by reward, best first; on equal rewards the earlier candidate stays
 * ahead (stable sort), so a re-discovered tie never displaces the incumbent.
 */
export function insertIntoMemory(
  memory: readonly EvaluatedCandidate[],
  candidate: EvaluatedCandidate,
  topK: number,
): EvaluatedCandidate[] {
  return [...memory, candidate].sort((a, b) => b.reward - a.reward).slice(0, topK);
}
