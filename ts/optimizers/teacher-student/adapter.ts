/** The Minigrid agent as a MIPROv2 program: system instruction, demo turns, the state (with its hint), the metric. */
import { hintFor } from '../../minigrid/dataset.js';
import {
  AGENT_INSTRUCTION,
  agentMessages,
  parseAgentReply,
  replyTurn,
  stateTurn,
  type AgentObservation,
  type AiFeedbackMetric,
  type NavigationExample,
} from '../../tasks/navigation/index.js';
import type { MiproAdapter } from '../mipro/program.js';
import type { AgentHintType } from './settings.js';

export const AGENT_PROGRAM_SUMMARY = `class MinigridAgent(dspy.Module):
    # one predictor: (mission, observation, hint) -> reasoning, action
    def forward(self, mission, observation, hint):
        return self.predict(mission=mission, observation=observation, hint=hint)  # action in {left, right, forward, pickup, drop, toggle, done}`;

export function observationOf(example: NavigationExample, hintType: AgentHintType): AgentObservation {
  const hint = hintType === 'none' ? undefined : hintFor(hintType, example.optimal_action_ids, example.subgoal);
  return { mission: example.mission, observation: example.observation, hint };
}

/** The gold reasoning of a labelled demo: the subgoal, and the optimal action. */
export function labeledReply(example: NavigationExample): string {
  const action = example.optimal_actions[0] ?? 'done';
  const reasoning = example.subgoal === '' ? `The best move is ${action}.` : `Next: ${example.subgoal}.`;
  return replyTurn(reasoning, action);
}

export function navigationAdapter(
  metric: AiFeedbackMetric,
  hintType: AgentHintType,
  maxTokens: number,
): MiproAdapter<NavigationExample> {
  return {
    basicInstruction: AGENT_INSTRUCTION,
    programSummary: AGENT_PROGRAM_SUMMARY,
    maxTokens,
    exampleId: (example) => example.id,
    messages: (program, example) => agentMessages(program, observationOf(example, hintType)),
    score: (example, reply, signal) => metric(example, reply, signal),
    labeledDemo: (example) => ({
      input: stateTurn(observationOf(example, hintType)),
      output: labeledReply(example),
      augmented: false,
    }),
    tracedDemo: (example, reply) => {
      const { reasoning, action } = parseAgentReply(reply);
      return {
        input: stateTurn(observationOf(example, hintType)),
        output: replyTurn(reasoning, action ?? ''),
        augmented: true,
      };
    },
    describeExample: (example) =>
      `Mission: ${example.mission}\nObservation:\n${example.observation}\nOptimal: ${example.optimal_actions.join(', ')}`,
    render: (program) => JSON.stringify(program),
  };
}
