export {
  runTeacherStudent,
  withAdapter,
  type StudentTraining,
  type TeacherStudentOptions,
  type TeacherStudentOutcome,
} from './pipeline.js';
export {
  HINT_TYPES,
  experimentsFromFile,
  parseSettings,
  teacherStudentSettingsSchema,
  type AgentHintType,
  type TeacherStudentSettings,
} from './settings.js';
export { navigationAdapter, observationOf } from './adapter.js';
export { summarizeStates, type StateSummary } from './summary.js';
