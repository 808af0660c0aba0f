// What every example prints about its run besides its own scores: steps, failed proposals, usage and time.
export function runSummary(result) {
  return {
    steps: result.steps,
    failures: result.history
      .filter((candidate) => candidate.error)
      .map((candidate) => `step ${candidate.step}.${candidate.proposal}: ${candidate.error.slice(0, 300)}`),
    calls: result.usage.calls,
    tokens: result.usage.promptTokens + result.usage.completionTokens,
    wallSeconds: Math.round(result.wallMs / 100) / 10,
  };
}
