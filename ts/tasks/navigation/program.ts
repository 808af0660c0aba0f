/**
 * The navigation agent as a prompt program: an instruction (system message), demos (user/assistant turns) and the
 * state to act in. The agent reasons briefly, then names one of Minigrid's seven actions on an `Action:` line.
 * Saved programs are plain JSON (`{name}.json` of `opt-native teacher-student`); `predictAction` is the library call.
 */
import { readFileSync } from 'node:fs';
import { OptNativeError } from '../../errors.js';
import type { ChatMessage, LanguageModel } from '../../llm/types.js';
import { ACTIONS, type ActionName } from '../../minigrid/dynamics.js';

export const AGENT_INSTRUCTION = `You are an agent in a Minigrid gridworld. Given your mission and your 7x7 egocentric view, choose the next action. Actions: left (turn left), right (turn right), forward (move one cell ahead), pickup (pick up the object ahead), drop (drop what you carry ahead), toggle (open or close the door ahead), done. Think in one or two short sentences, then answer on a last line "Action: <action>".`;

/** One demo turn: the state as the user writes it, the reply as the assistant writes it. */
export interface AgentDemo {
  readonly input: string;
  readonly output: string;
  readonly augmented: boolean;
}

export interface AgentProgram {
  readonly instruction: string;
  readonly demos: readonly AgentDemo[];
}

/** What the agent sees of a state. */
export interface AgentObservation {
  readonly mission: string;
  readonly observation: string;
  /** The planner's hint given with the state (`--hint-type`): the optimal actions or the current subgoal. */
  readonly hint?: string;
}

export interface AgentPrediction {
  readonly reasoning: string;
  /** Null when the reply names no action. */
  readonly action: ActionName | null;
  readonly reply: string;
}

export function stateTurn(state: AgentObservation): string {
  const hint = state.hint === undefined || state.hint === '' ? '' : `\nHint: ${state.hint}`;
  return `Mission: ${state.mission}\nObservation:\n${state.observation}${hint}`;
}

export function replyTurn(reasoning: string, action: string): string {
  return `Reasoning: ${reasoning}\nAction: ${action}`;
}

export function agentMessages(program: AgentProgram, state: AgentObservation): ChatMessage[] {
  return [
    { role: 'system', content: program.instruction },
    ...program.demos.flatMap((demo): ChatMessage[] => [
      { role: 'user', content: demo.input },
      { role: 'assistant', content: demo.output },
    ]),
    { role: 'user', content: stateTurn(state) },
  ];
}

const ACTION_WORD = new RegExp(`\\b(${ACTIONS.join('|')})\\b`, 'gi');

/** The action on the last `Action:` line, else the last action word in the reply; the text before it is the reasoning. */
export function parseAgentReply(reply: string): AgentPrediction {
  const lines = [...reply.matchAll(/^\s*\**action\**\s*[:=]\s*\**\s*([a-z]+)/gim)];
  const tagged = lines.at(-1);
  const word = tagged?.[1]?.toLowerCase();
  const named = word !== undefined && (ACTIONS as readonly string[]).includes(word) ? (word as ActionName) : null;
  const fallback = [...reply.matchAll(ACTION_WORD)].at(-1)?.[1]?.toLowerCase() as ActionName | undefined;
  const action = named ?? fallback ?? null;
  const cut = tagged?.index ?? reply.length;
  const reasoning = reply
    .slice(0, cut)
    .replace(/^\s*reasoning\s*:\s*/i, '')
    .trim();
  return { reasoning, action, reply };
}

/** A saved program: `{ instruction, demos, model }` as the pipeline writes it. */
export interface SavedAgentProgram extends AgentProgram {
  readonly model?: string;
}

export function loadAgentProgram(path: string): SavedAgentProgram {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'E_FILE_NOT_FOUND' : 'E_BAD_INPUT';
    throw new OptNativeError(code, `cannot read the agent program ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const program = parsed as Partial<SavedAgentProgram>;
  if (typeof program.instruction !== 'string' || !Array.isArray(program.demos)) {
    throw new OptNativeError('E_BAD_INPUT', `${path} is not an agent program (needs instruction and demos)`);
  }
  return program as SavedAgentProgram;
}

/** Runs the program on one state with `model` (greedy) and reads the action. */
export async function predictAction(
  model: LanguageModel,
  program: AgentProgram,
  state: AgentObservation,
  options: { maxTokens?: number; signal?: AbortSignal } = {},
): Promise<AgentPrediction> {
  const result = await model.generate({
    messages: agentMessages(program, state),
    temperature: 0,
    maxTokens: options.maxTokens ?? AGENT_MAX_TOKENS,
    signal: options.signal,
  });
  return parseAgentReply(result.text);
}

export const AGENT_MAX_TOKENS = 96;
