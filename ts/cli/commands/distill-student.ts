// `teacher-student --distill lora`: the student's LoRA adapter, trained by the native core on the distilled traces.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OptNativeError } from '../../errors.js';
import { canonicalModelString, localModelSpec, parseModelString } from '../../llm/model-string.js';
import { baseModelNameOf } from '../../models/default-model.js';
import { resolveModel } from '../../models/resolve.js';
import { finetune } from '../../native/finetune.js';
import type { StudentTraining } from '../../optimizers/teacher-student/index.js';

/** Refused before any experiment runs: LoRA trains a local (native) student from its base weights. */
export function checkLoraStudent(studentModel: string): void {
  const spec = parseModelString(canonicalModelString(studentModel));
  if (spec.provider !== 'native') {
    throw new OptNativeError('E_BAD_INPUT', `--distill lora trains a native student; ${studentModel} is not one`);
  }
  if (spec.adapter !== undefined) {
    throw new OptNativeError(
      'E_BAD_INPUT',
      `--distill lora trains from the base student: drop ?adapter= from ${studentModel}`,
    );
  }
}

function lineCount(path: string): number {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '').length;
}

/** The adapter of an earlier run on as many traces is reused; a killed training resumes from its checkpoint. */
function finishedEarlier(training: StudentTraining): boolean {
  const summaryPath = join(training.outputDir, 'train_summary.json');
  if (!existsSync(summaryPath)) return false;
  const summary = JSON.parse(readFileSync(summaryPath, 'utf8')) as { examples?: number; epochs?: number };
  return summary.examples === lineCount(training.data) && summary.epochs === training.epochs;
}

/** Trains (or reuses) the adapter in `training.outputDir` and returns that folder. */
export async function trainLoraStudent(training: StudentTraining): Promise<string> {
  if (finishedEarlier(training)) return training.outputDir;
  const spec = localModelSpec(training.studentModel);
  const resolved = await resolveModel(spec, { signal: training.signal });
  const resume = existsSync(join(training.outputDir, 'checkpoint'));
  await finetune(
    {
      model: resolved.path,
      tokenizerPath: resolved.tokenizerPath,
      baseModelName: baseModelNameOf(spec),
      data: training.data,
      outputDir: training.outputDir,
      epochs: training.epochs,
      batchSize: 2,
      // Agent prompts (instruction, demos, a rendered grid) run to a few thousand tokens; keep them whole.
      maxSeqLen: 8192,
      checkpointEvery: 10,
      resume,
    },
    {
      signal: training.signal,
      onProgress: (p) => {
        if (p.checkpointed || p.step === p.totalSteps) {
          process.stderr.write(`[distill] step ${p.step}/${p.totalSteps} loss ${p.trainLoss.toFixed(4)}\n`);
        }
      },
    },
  );
  return training.outputDir;
}
