/**
 * `opt-native teacher-student`: the batch file layout with flags on top, the pipeline in process with scripted models
 * (outputs, and a resumed run that calls no model), and the CLI end to end in a temp folder with coded errors.
 */
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OptNativeError } from '../ts/errors.js';
import { ACTIONS } from '../ts/minigrid/dynamics.js';
import { SeededRandom, deriveSeed } from '../ts/random.js';
import { loadNavigationSplits } from '../ts/tasks/navigation/index.js';
import { ScriptedLanguageModel } from '../ts/llm/scripted.js';
import {
  experimentsFromFile,
  parseSettings,
  runTeacherStudent,
  withAdapter,
} from '../ts/optimizers/teacher-student/index.js';
import { trainLoraStudent } from '../ts/cli/commands/distill-student.js';
import { TINY_MODEL_DIR } from './native-fixtures.js';
import { createLanguageModel, loadAgentProgram, predictAction, type LanguageModel } from '../ts/index.js';
import { repoRoot, runCli, SOURCE_CLI_ARGS } from './cli-harness.js';

const root = mkdtempSync(join(tmpdir(), 'teacher-student-'));
const dataset = join(root, 'data');
afterAll(() => rmSync(root, { recursive: true, force: true }));

beforeAll(() => {
  execFileSync(
    process.execPath,
    [...SOURCE_CLI_ARGS, 'data', 'minigrid', '--envs', 'Empty-5x5', '--seeds', '5', '--out', dataset],
    { cwd: repoRoot },
  );
}, 60_000);

const PROPOSAL = 'You walk a gridworld. End with Action: <action>.';

/** Proposes one instruction, judges with "no", and otherwise always walks forward (giving `reasoning`). */
function scripted(modelId: string, reasoning = 'the goal is somewhere ahead'): ScriptedLanguageModel {
  return new ScriptedLanguageModel({
    modelId,
    respond: (request) => {
      const content = request.messages.at(-1)?.content ?? '';
      if (content.includes('[[ ## proposed_instruction ## ]]')) return `[[ ## proposed_instruction ## ]]\n${PROPOSAL}`;
      if (content.includes('[[ ##')) return 'Small grids with a goal.';
      if (content.includes('reasonable alternative')) return 'no';
      return `Reasoning: ${reasoning}.\nAction: forward`;
    },
  });
}

describe('teacher-student settings', () => {
  const yaml = `fine_tuning:
  dataset_path: /data/minigrid
  defaults:
    hint_type: subgoal
    samples_per_category: 15
    max_bootstrapped_demos: 1
  models:
    - name: small
      teacher_model: native:qwen2.5-coder-1.5b
      student_model: native:default
    - name: big
      teacher_model: openai:gpt-4o-mini
      student_model: native:default
      minibatch_size: 20
`;

  it("reads the original's fine_tuning layout: entries over defaults over the dataset path, flags over all", () => {
    const [small, big] = experimentsFromFile(yaml, 'batch.yaml', { minibatchSize: 10, outputDir: '/out' });
    expect(small).toMatchObject({
      name: 'small',
      datasetPath: '/data/minigrid',
      hintType: 'subgoal',
      samplesPerCategory: 15,
      teacherModel: 'native:qwen2.5-coder-1.5b',
      minibatchSize: 10,
      outputDir: '/out',
      auto: 'light',
    });
    expect(big).toMatchObject({ name: 'big', teacherModel: 'openai:gpt-4o-mini', minibatchSize: 10 });
    // The same file as JSON.
    const json = JSON.stringify({
      fine_tuning: { dataset_path: '/d', models: [{ teacher_model: 't', student_model: 's' }] },
    });
    expect(experimentsFromFile(json, 'batch.json')[0]).toMatchObject({ datasetPath: '/d', name: 'program' });
  });

  it('refuses bad values and unknown keys with E_BAD_INPUT naming them', () => {
    const refusal = (run: () => unknown) => {
      try {
        run();
        return 'accepted';
      } catch (error) {
        return error instanceof OptNativeError ? `${error.code}: ${error.message}` : String(error);
      }
    };
    expect(
      refusal(() => experimentsFromFile(yaml.replace('minibatch_size: 20', 'minibatch_size: -2'), 'b.yaml')),
    ).toMatch(/^E_BAD_INPUT: b.yaml: models\[1\]: minibatchSize: /);
    expect(refusal(() => parseSettings({ datasetPath: 'd', teacherModel: 't', studentModel: 's', epochs: 2 }))).toBe(
      'E_BAD_INPUT: unknown parameter(s) epochs',
    );
    expect(refusal(() => experimentsFromFile('fine_tuning: 3', 'c.yaml'))).toMatch(/^E_BAD_INPUT: c.yaml: fine_tuning/);
  });
});

/** The tiny native fixture with an 8192-token context (its weights do not depend on it), as agent prompts need. */
function longContextTinyModel(): string {
  const dir = join(root, 'tiny-long-context');
  mkdirSync(dir, { recursive: true });
  for (const file of ['model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) {
    copyFileSync(join(TINY_MODEL_DIR, file), join(dir, file));
  }
  const config = JSON.parse(readFileSync(join(TINY_MODEL_DIR, 'config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, max_position_embeddings: 8192 }));
  return dir;
}

describe('the teacher-student pipeline', () => {
  const settings = (outputDir: string) =>
    parseSettings({
      datasetPath: dataset,
      teacherModel: 'teacher',
      studentModel: 'student',
      assessorModel: 'assessor',
      outputDir,
      evalSize: 6,
      episodes: 2, // the one test seed of 5 (60/20/20) caps it at 1
      episodeMaxSteps: 4,
      maxLabeledDemos: 1,
    });

  it('writes the program, the info and the distilled traces, and a rerun calls no model', async () => {
    const out = join(root, 'pipeline');
    const models = new Map<string, ScriptedLanguageModel>();
    const resolveModel = async (id: string) => models.get(id) ?? models.set(id, scripted(id)).get(id)!;
    const outcome = await runTeacherStudent(settings(out), { resolveModel });
    const program = loadAgentProgram(outcome.programPath);
    expect(program.model).toBe('student');
    expect([program.instruction === PROPOSAL || program.instruction.startsWith('You are an agent')]).toEqual([true]);
    const info = JSON.parse(readFileSync(outcome.infoPath, 'utf8'));
    expect(info.models).toEqual({ teacher: 'teacher', student: 'student', assessor: 'assessor' });
    expect(Object.keys(info.per_category_counts)).toEqual(['train', 'dev', 'test']);
    expect(info.scores.student_optimized.states).toBe(6);
    // The assessor said no to every non-optimal forward, the planner judge decided too: κ is reported.
    expect(info.scores.student_optimized.reasonable).toBe(0);
    expect(outcome.printout.join('\n')).toMatch(/Accuracy \d\.\d{3} \(\d+\/6\)/);
    expect(outcome.printout.join('\n')).toMatch(/Episode success \d\/1 on held-out seeds/);
    // The constant-action floor, recomputed by hand on the pipeline's held-out sample: 1 per optimal state, 0.5 per
    // state where the action changes something and loses at most one step.
    const test = new SeededRandom(deriveSeed(0, 'test')).sample(loadNavigationSplits(dataset).test, 6);
    const byHand = ACTIONS.map((action) => {
      const points = test.map((state) =>
        state.optimal_actions.includes(action)
          ? 1
          : !state.no_op_actions!.includes(action) && (state.regrets[action] ?? Infinity) <= 1
            ? 0.5
            : 0,
      );
      return points.reduce<number>((sum, point) => sum + point, 0) / test.length;
    });
    expect(info.scores.constant_action.meanScore).toBeCloseTo(Math.max(...byHand), 12);
    expect(info.scores.constant_action.action).toBe(ACTIONS[byHand.indexOf(Math.max(...byHand))]);
    expect(outcome.printout).toContain(`  Mean score ${info.scores.constant_action.meanScore.toFixed(3)}`);
    // The target's comparison: the optimized student against the teacher's zero-shot score, paired on the same states.
    const gap = info.teacher_gap.student_optimized;
    expect(gap.baseline).toBeCloseTo(info.scores.teacher_zero_shot.meanScore, 12);
    expect(gap.candidate).toBeCloseTo(info.scores.student_optimized.meanScore, 12);
    expect(gap.gain).toBeCloseTo(gap.candidate - gap.baseline, 12);
    expect(gap.gainInterval.low).toBeLessThanOrEqual(gap.gain);
    expect(gap.gainInterval.high).toBeGreaterThanOrEqual(gap.gain);
    expect(outcome.printout.join('\n')).toContain(
      `  Mean score against the teacher's zero-shot ${gap.baseline.toFixed(3)}: optimized student ${gap.candidate.toFixed(3)}`,
    );
    const distilled = readFileSync(outcome.distillPath!, 'utf8').trim().split('\n').filter(Boolean);
    expect(distilled.length).toBe(info.distilled);
    if (distilled.length > 0) expect(JSON.parse(distilled[0]!).messages.at(-1).role).toBe('assistant');
    const calls = () => [...models.values()].reduce((sum, model) => sum + model.calls.length, 0);
    expect(calls()).toBeGreaterThan(0);
    models.clear();
    const again = await runTeacherStudent(settings(out), { resolveModel });
    expect(calls()).toBe(0);
    expect(again.printout).toEqual(outcome.printout);
    // The library API: the saved program predicts an action for an observation.
    const prediction = await predictAction(scripted('lib'), program, { mission: 'get to the goal', observation: '.' });
    expect(prediction.action).toBe('forward');
  }, 60_000);

  it('--distill lora trains a real adapter on the traces, scores the adapted student, and a rerun reuses both', async () => {
    const out = join(root, 'lora');
    // Scripted teacher and traces; the student's base for training is the tiny native model, and the adapted
    // student is that model with the trained adapter, loaded by the native core.
    const student = `native:${longContextTinyModel()}`;
    const models = new Map<string, LanguageModel>();
    const resolveModel = async (id: string) => {
      const load = async () =>
        id.includes('?adapter=') ? await createLanguageModel(id) : scripted(id, `${id} walks on`);
      if (!models.has(id)) models.set(id, await load());
      return models.get(id)!;
    };
    const loraSettings = {
      ...settings(out),
      studentModel: student,
      distill: 'lora' as const,
      distillFrom: 'teacher' as const,
      distillEpochs: 1,
    };
    const outcome = await runTeacherStudent(loraSettings, { resolveModel, trainStudent: trainLoraStudent });
    const info = JSON.parse(readFileSync(outcome.infoPath, 'utf8'));
    expect(info.distilled).toBeGreaterThan(0);
    // The teacher's traces (its replies), not the student's.
    const rows = readFileSync(outcome.distillPath!, 'utf8').trim().split('\n');
    expect(rows.map((row) => JSON.parse(row).messages.at(-1).content)).toEqual(
      rows.map(() => 'Reasoning: teacher walks on.\nAction: forward'),
    );
    const adapterDir = join(out, 'program_student_lora');
    expect(info.distillation.adapter).toBe(adapterDir);
    const trained = JSON.parse(readFileSync(join(adapterDir, 'train_summary.json'), 'utf8'));
    expect(trained).toMatchObject({ examples: info.distilled, epochs: 1 });
    expect(info.scores.student_distilled.states).toBe(6);
    const text = outcome.printout.join('\n');
    expect(text).toContain(
      `Student + LoRA adapter (${info.distilled} teacher traces, 1 epochs), optimized program, on 6`,
    );
    expect(text).toContain(`Distilled ${info.distilled} 1.0-scored teacher traces`);
    expect(text).toMatch(/Lenient accuracy without → with the adapter \d\.\d{3} → \d\.\d{3}, gain/);
    expect(info.teacher_gap.student_distilled.candidate).toBeCloseTo(info.scores.student_distilled.meanScore, 12);
    expect(text).toContain(`: student + adapter ${info.scores.student_distilled.meanScore.toFixed(3)}, `);
    const adaptedId = [...models.keys()].find((id) => id.includes('?adapter='))!;
    expect(adaptedId).toBe(withAdapter(student, adapterDir));
    const trainedAt = statSync(join(adapterDir, 'adapter_model.safetensors')).mtimeMs;
    await Promise.all([...models.values()].map((model) => model.dispose?.()));
    models.clear();
    const again = await runTeacherStudent(loraSettings, { resolveModel, trainStudent: trainLoraStudent });
    expect(again.printout).toEqual(outcome.printout);
    expect(statSync(join(adapterDir, 'adapter_model.safetensors')).mtimeMs).toBe(trainedAt);
    await Promise.all([...models.values()].map((model) => model.dispose?.()));
  }, 120_000);

  it('regrades the recorded replies on a rerun: scored states recorded by older runs are read back too', async () => {
    const out = join(root, 'regrade');
    const models = new Map<string, ScriptedLanguageModel>();
    const resolveModel = async (id: string) => models.get(id) ?? models.set(id, scripted(id)).get(id)!;
    const first = await runTeacherStudent(settings(out), { resolveModel });
    // Rewrite the held-out evaluations as the older format, with stale scores that must not survive.
    const events = join(out, 'program.run', 'events.jsonl');
    const lines = readFileSync(events, 'utf8').trim().split('\n');
    let rewritten = 0;
    const older = lines.map((line) => {
      const event = JSON.parse(line);
      if (event.type !== 'step' || !String(event.key).startsWith('teacher-student/eval/')) return line;
      rewritten += 1;
      const value = (event.value as string[]).map((reply, index) => ({ id: `x${index}`, reply, score: 1 }));
      return JSON.stringify({ ...event, value });
    });
    expect(rewritten).toBeGreaterThan(1);
    writeFileSync(events, `${older.join('\n')}\n`);
    models.clear();
    const again = await runTeacherStudent(settings(out), { resolveModel });
    expect([...models.values()].reduce((sum, model) => sum + model.calls.length, 0)).toBe(0);
    expect(again.printout).toEqual(first.printout);
  }, 60_000);

  it('--distill-from planner writes the planner labels of --distill-size train states, without demos', async () => {
    const out = join(root, 'planner-rows');
    const resolveModel = async (id: string) => scripted(id);
    const outcome = await runTeacherStudent(
      { ...settings(out), distillFrom: 'planner' as const, distillSize: 7 },
      { resolveModel },
    );
    const rows = readFileSync(outcome.distillPath!, 'utf8')
      .trim()
      .split('\n')
      .map((row) => JSON.parse(row).messages as { role: string; content: string }[]);
    expect(rows).toHaveLength(7);
    const train = loadNavigationSplits(dataset).train;
    const drawn = new SeededRandom(deriveSeed(0, 'distill')).sample(train, 7);
    // system, the state, the planner's reply: no demo turns.
    expect(rows.map((messages) => messages.map((message) => message.role))).toEqual(
      rows.map(() => ['system', 'user', 'assistant']),
    );
    expect(rows.map((messages) => messages[2]!.content)).toEqual(
      drawn.map((state) => `Reasoning: Next: ${state.subgoal}.\nAction: ${state.optimal_actions[0]}`),
    );
    expect(rows.map((messages) => messages[1]!.content)).toEqual(
      drawn.map((state) => expect.stringContaining(state.observation)),
    );
    expect(outcome.printout).toContain(`  Distilled 7 planner-labelled traces to ${outcome.distillPath}`);
  }, 60_000);

  it('--distill lora without a trainer is E_BAD_INPUT', async () => {
    const out = join(root, 'lora-untrained');
    const resolveModel = async (id: string) => scripted(id);
    const attempt = runTeacherStudent({ ...settings(out), distill: 'lora' }, { resolveModel });
    await expect(attempt).rejects.toMatchObject({ code: 'E_BAD_INPUT' });
  }, 60_000);
});

describe('opt-native teacher-student', () => {
  const cli = (args: string[]) => runCli(SOURCE_CLI_ARGS, ['teacher-student', ...args]);

  it('runs end to end with scripted models and prints the evaluation', async () => {
    const script = join(root, 'model.json');
    writeFileSync(
      script,
      JSON.stringify({
        rules: [
          { contains: '[[ ## proposed_instruction ## ]]', reply: `[[ ## proposed_instruction ## ]]\n${PROPOSAL}` },
          { contains: '[[ ##', reply: 'Small grids.' },
        ],
        default: 'Reasoning: ahead.\nAction: forward',
      }),
    );
    const out = join(root, 'cli');
    const run = await cli([
      '--dataset-path',
      dataset,
      '--teacher-model',
      `scripted:${script}`,
      '--student-model',
      `scripted:${script}`,
      '--assessor-model',
      'planner',
      '--eval-size',
      '5',
      '--episodes',
      '1',
      '--episode-max-steps',
      '3',
      '--max-labeled-demos',
      '1',
      '--output-dir',
      out,
      '--name',
      'run1',
    ]);
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Student, optimized program, on 5 held-out states:/);
    expect(run.stdout).toMatch(/Accuracy \d\.\d{3} \(\d\/5\)/);
    for (const file of ['run1.json', 'run1_info.json', 'run1_distill.jsonl'])
      expect(existsSync(join(out, file))).toBe(true);
  }, 120_000);

  it('refuses a missing dataset folder and bad numbers with coded errors', async () => {
    const missing = await cli([
      '--dataset-path',
      join(root, 'nope'),
      '--teacher-model',
      'scripted:/t.json',
      '--student-model',
      'scripted:/s.json',
    ]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/E_FILE_NOT_FOUND.*does not exist/);
    const bad = await cli([
      '--dataset-path',
      dataset,
      '--teacher-model',
      'scripted:/t.json',
      '--student-model',
      'scripted:/s.json',
      '--eval-size',
      '0',
    ]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/E_BAD_INPUT.*--eval-size/);
    const word = await cli([
      '--dataset-path',
      dataset,
      '--teacher-model',
      'scripted:/t.json',
      '--student-model',
      'scripted:/s.json',
      '--minibatch-size',
      'ten',
    ]);
    expect(word.stderr).toMatch(/E_BAD_INPUT.*--minibatch-size must be an integer/);
    const common = ['--dataset-path', dataset, '--teacher-model', 'scripted:/t.json', '--distill', 'lora'];
    const hosted = await cli([...common, '--student-model', 'openai:gpt-4o-mini']);
    expect(hosted.stderr).toMatch(/E_BAD_INPUT.*--distill lora trains a native student; openai:gpt-4o-mini is not one/);
    const adapted = await cli([...common, '--student-model', 'native:default?adapter=/some/adapter']);
    expect(adapted.stderr).toMatch(/E_BAD_INPUT.*drop \?adapter= from native:default\?adapter=/);
  }, 60_000);
});
