/**
 * An objective that runs an evaluator script in the sandbox: the script reads x from /work/x.txt (also on stdin)
 * and prints `{"score": number, "feedback": "..."}` as its last line of output. Every way it can fail (crash,
 * no JSON, hang, out of memory, flood, NaN) becomes an E_EVALUATOR error whose message is the model's feedback line.
 */
import { OptNativeError } from '../errors.js';
import { runInSandbox } from '../sandbox/run.js';
import type { SandboxOptions, SandboxResult, SandboxRuntime } from '../sandbox/types.js';
import { normalizeEvaluation, type Evaluation } from './objective.js';

export const CANDIDATE_FILE = 'x.txt';
const TAIL_LINES = 8;
const TAIL_CHARS = 800;

export interface SandboxEvaluatorOptions extends Omit<SandboxOptions, 'stdin' | 'signal'> {
  /** The evaluator's source code (trusted by the user, but it runs the untrusted x, so it runs sandboxed). */
  script: string;
  runtime?: SandboxRuntime;
}

function tail(text: string): string {
  const lines = text.trimEnd().split('\n').slice(-TAIL_LINES).join('\n');
  return lines.length > TAIL_CHARS ? `...${lines.slice(-TAIL_CHARS)}` : lines;
}

function fail(message: string): never {
  throw new OptNativeError('E_EVALUATOR', message);
}

/** The last non-empty stdout line as `{score, feedback}`. */
export function parseEvaluatorOutput(stdout: string): Evaluation {
  const lines = stdout.split('\n').filter((line) => line.trim() !== '');
  const last = lines[lines.length - 1];
  if (last === undefined) fail('the evaluator printed nothing; it must print {"score": ..., "feedback": ...}');
  let parsed: unknown;
  try {
    parsed = JSON.parse(last);
  } catch {
    if (/"score"\s*:\s*-?(NaN|Infinity)/.test(last)) fail('the evaluator printed a score that is not a finite number');
    fail(`the evaluator's last line is not JSON {"score": ..., "feedback": ...}: ${tail(last)}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    fail(`the evaluator's last line is not a JSON object with a score: ${tail(last)}`);
  return normalizeEvaluation(parsed);
}

function checkRun(result: SandboxResult, options: SandboxEvaluatorOptions): void {
  if (result.timedOut) fail(`the evaluator ran past its deadline (${options.timeoutMs ?? 10_000} ms) and was killed`);
  if (result.memoryExceeded) fail(`the evaluator ran out of memory under its limit: ${tail(result.stderr)}`);
  if (result.outputTruncated) fail('the evaluator printed more output than allowed and was killed');
  if (result.exitCode !== 0) fail(`the evaluator exited with status ${result.exitCode}: ${tail(result.stderr)}`);
}

export function sandboxEvaluator(options: SandboxEvaluatorOptions) {
  const { script, runtime = 'python', ...sandboxOptions } = options;
  return async (x: string, signal?: AbortSignal): Promise<Evaluation> => {
    const result = await runInSandbox(runtime, script, {
      ...sandboxOptions,
      files: { ...sandboxOptions.files, [CANDIDATE_FILE]: x },
      stdin: x,
      signal,
    });
    checkRun(result, options);
    return parseEvaluatorOutput(result.stdout);
  };
}
