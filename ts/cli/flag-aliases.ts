// Other names of a flag: the original tools' names (`--optimizer-llm`, `--checkpoint`) and deprecated ones whose
// meaning moved (`opro --max-tokens` was the token budget; everywhere else --max-tokens caps one completion). An
// alias is parsed like its flag and its value is folded into the flag's before the command runs, so each command
// reads one name.
import { Option, type Command } from 'commander';
import { OptNativeError } from '../errors.js';

/** Each alias option → the option it is another name of. */
const aliasTargets = new WeakMap<Option, Option>();

/**
 * Adds `flags` (e.g. `--optimizer-llm <model>`) as another name of the option `target` (its long flag, e.g.
 * `--optimizer-model`); `why` goes to the help text. `parse` defaults to the target's parser.
 */
export function addFlagAlias(
  command: Command,
  flags: string,
  target: string,
  why: string,
  parse?: (value: string) => unknown,
): Command {
  const targetOption = command.options.find((option) => option.long === target);
  if (!targetOption) throw new Error(`${flags}: no option ${target} to be an alias of`);
  const alias = new Option(flags, `alias of ${target} (${why})`);
  const parser = parse ?? targetOption.parseArg;
  if (parser) alias.argParser((value: string) => parser(value, undefined));
  aliasTargets.set(alias, targetOption);
  return command.addOption(alias);
}

/** Folds one alias's value into its target: unless the user set the target too (then both must agree). */
function foldAlias(command: Command, alias: Option, target: Option): void {
  const aliasKey = alias.attributeName();
  const value = command.getOptionValue(aliasKey);
  if (value === undefined) return;
  const targetKey = target.attributeName();
  const targetSource = command.getOptionValueSource(targetKey);
  const targetValue = command.getOptionValue(targetKey);
  if (targetSource === undefined || targetSource === 'default') {
    command.setOptionValueWithSource(targetKey, value, command.getOptionValueSource(aliasKey) ?? 'cli');
  } else if (targetValue !== false && targetValue !== value) {
    // A negated target (`--no-lora`) says to use neither, and wins; two different values are a mistake.
    throw new OptNativeError('E_BAD_INPUT', `${alias.long} is another name of ${target.long}: give one of them`);
  }
  command.setOptionValue(aliasKey, undefined);
}

/** The command's option values with every alias folded into its flag (see the file comment). */
export function commandValues<T>(command: Command): T {
  for (const option of command.options) {
    const target = aliasTargets.get(option);
    if (target) foldAlias(command, option, target);
  }
  return command.opts<T & object>() as T;
}

/** Option values an earlier run recorded, under today's names: a recorded alias becomes its flag's value. */
export function currentNames(command: Command, recorded: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const values = { ...recorded };
  for (const option of command.options) {
    const target = aliasTargets.get(option);
    if (!target) continue;
    const aliasKey = option.attributeName();
    const targetKey = target.attributeName();
    // `true` where the flag now takes a value is the default of the old negatable flag (`--no-lora` not given).
    if (values[targetKey] === true && target.required) delete values[targetKey];
    if (values[aliasKey] !== undefined && values[targetKey] === undefined) values[targetKey] = values[aliasKey];
    delete values[aliasKey];
  }
  return values;
}
