/**
 * MIPROv2's trial numbering (DSPy on Optuna): trial 1 is the full evaluation of the default program, each search
 * trial is scored on a minibatch, and after every `fullEvalSteps` of them (and after the last) the best-averaging
 * configuration gets a full evaluation that is itself added to the study as a trial. These pure functions say which
 * trial numbers do what, so that the optimizer and its tests agree with DSPy's bookkeeping.
 */

/** Trials shown to the user: search trials plus full evaluations (DSPy's `adjusted_num_trials`). */
export function adjustedTrialCount(numTrials: number, fullEvalSteps: number, minibatch: boolean): number {
  if (!minibatch) return numTrials;
  const extraAtEnd = numTrials % fullEvalSteps === 0 ? 0 : 1;
  return numTrials + Math.floor(numTrials / fullEvalSteps) + 1 + extraAtEnd;
}

export interface ScheduledTrial {
  /** 1-based number of the search trial. */
  readonly searchTrial: number;
  /** DSPy's `trial_num`: the Optuna trial number + 1 (the default program is number 0). */
  readonly trialNumber: number;
  /** Whether a full evaluation of the best-averaging configuration follows this trial. */
  readonly fullEvalAfter: boolean;
}

/** The search trials in order; each full evaluation takes the next Optuna number, so later trials skip it. */
export function trialSchedule(numTrials: number, fullEvalSteps: number, minibatch: boolean): ScheduledTrial[] {
  const adjusted = adjustedTrialCount(numTrials, fullEvalSteps, minibatch);
  const schedule: ScheduledTrial[] = [];
  let optunaNumber = 1;
  for (let searchTrial = 1; searchTrial <= numTrials; searchTrial += 1) {
    const trialNumber = optunaNumber + 1;
    optunaNumber += 1;
    const fullEvalAfter = minibatch && (trialNumber % (fullEvalSteps + 1) === 0 || trialNumber === adjusted - 1);
    if (fullEvalAfter) optunaNumber += 1;
    schedule.push({ searchTrial, trialNumber, fullEvalAfter });
  }
  return schedule;
}
