// The agent's 7×7 view as text for a language model, in four encodings: `ascii` (Minigrid's pprint letters),
// `natural` (sentences), `tuples` (the raw (object, colour, state) image) and `relative` (one line per object with
// its offset from the agent).
import type { MinigridState, MinigridTask } from './dynamics.js';
import { cellLetters } from './grid-text.js';
import type { Cell } from './grid.js';
import { observeView, VIEW_SIZE } from './observation.js';
import { encodeObject } from './objects.js';

export const ENCODINGS = ['ascii', 'natural', 'tuples', 'relative'] as const;
export type Encoding = (typeof ENCODINGS)[number];

const DIRECTION_NAMES = ['east', 'south', 'west', 'north'];
const AGENT_X = Math.floor(VIEW_SIZE / 2);
const AGENT_Y = VIEW_SIZE - 1;

interface ViewCell {
  /** Steps ahead of the agent (0 = its own row) and to its right (negative: left). */
  forward: number;
  right: number;
  cell: Cell;
  visible: boolean;
}

function viewCells(task: MinigridTask, state: MinigridState): ViewCell[] {
  const view = observeView(task, state);
  const cells: ViewCell[] = [];
  for (let y = 0; y < VIEW_SIZE; y += 1) {
    for (let x = 0; x < VIEW_SIZE; x += 1) {
      const visible = view.visible[y * VIEW_SIZE + x] ?? false;
      cells.push({ forward: AGENT_Y - y, right: x - AGENT_X, cell: view.grid.get(x, y), visible });
    }
  }
  return cells;
}

function describeObject(cell: NonNullable<Cell>): string {
  if (cell.type === 'door') return `${cell.doorState} ${cell.color} door`;
  if (cell.type === 'goal' || cell.type === 'lava' || cell.type === 'wall') return cell.type;
  return `${cell.color} ${cell.type}`;
}

function carryingLine(state: MinigridState): string {
  return `Carrying: ${state.carrying === null ? 'nothing' : describeObject(state.carrying)}.`;
}

function isAgent(viewCell: ViewCell): boolean {
  return viewCell.forward === 0 && viewCell.right === 0;
}

/** Letters per cell, the agent '^^' at the bottom middle facing up, unseen cells '??'. */
function encodeAscii(cells: readonly ViewCell[]): string {
  const rows: string[] = [];
  for (let y = 0; y < VIEW_SIZE; y += 1) {
    const row = cells.slice(y * VIEW_SIZE, (y + 1) * VIEW_SIZE);
    rows.push(
      row.map((viewCell) => (isAgent(viewCell) ? '^^' : viewCell.visible ? cellLetters(viewCell.cell) : '??')).join(''),
    );
  }
  return rows.join('\n');
}

function encodeTuples(cells: readonly ViewCell[]): string {
  const rows: string[] = [];
  for (let y = 0; y < VIEW_SIZE; y += 1) {
    const row = cells.slice(y * VIEW_SIZE, (y + 1) * VIEW_SIZE);
    rows.push(
      row.map((viewCell) => `(${viewCell.visible ? encodeObject(viewCell.cell).join(',') : '0,0,0'})`).join(' '),
    );
  }
  return rows.join('\n');
}

function offsetWords(forward: number, right: number): string {
  const parts: string[] = [];
  if (forward > 0) parts.push(`${forward} ${forward === 1 ? 'step' : 'steps'} ahead`);
  if (right !== 0)
    parts.push(`${Math.abs(right)} ${Math.abs(right) === 1 ? 'step' : 'steps'} to the ${right > 0 ? 'right' : 'left'}`);
  return parts.join(' and ');
}

/** Visible objects other than walls, nearest first. */
function visibleObjects(cells: readonly ViewCell[]): (ViewCell & { cell: NonNullable<Cell> })[] {
  return cells
    .filter((viewCell): viewCell is ViewCell & { cell: NonNullable<Cell> } => viewCell.visible && !isAgent(viewCell))
    .filter((viewCell) => viewCell.cell !== null && viewCell.cell.type !== 'wall')
    .sort((a, b) => a.forward + Math.abs(a.right) - (b.forward + Math.abs(b.right)) || a.right - b.right);
}

function encodeNatural(cells: readonly ViewCell[], state: MinigridState): string {
  const front = cells.find((viewCell) => viewCell.forward === 1 && viewCell.right === 0);
  const frontText = front?.cell ? `a ${describeObject(front.cell)}` : 'an empty square';
  const sentences = [`You face ${DIRECTION_NAMES[state.agentDir]}. Directly in front of you is ${frontText}.`];
  const objects = visibleObjects(cells).filter((viewCell) => viewCell !== front);
  if (objects.length === 0) sentences.push('You see no other objects.');
  for (const viewCell of objects)
    sentences.push(`You see a ${describeObject(viewCell.cell)} ${offsetWords(viewCell.forward, viewCell.right)}.`);
  sentences.push(`You are carrying ${state.carrying === null ? 'nothing' : `a ${describeObject(state.carrying)}`}.`);
  return sentences.join(' ');
}

function encodeRelative(cells: readonly ViewCell[], state: MinigridState): string {
  const lines = [`facing: ${DIRECTION_NAMES[state.agentDir]}`];
  const front = cells.find((viewCell) => viewCell.forward === 1 && viewCell.right === 0);
  lines.push(`front: ${front?.cell ? describeObject(front.cell) : 'empty'}`);
  for (const viewCell of visibleObjects(cells)) {
    lines.push(`${describeObject(viewCell.cell)}: forward ${viewCell.forward}, right ${viewCell.right}`);
  }
  lines.push(`carrying: ${state.carrying === null ? 'nothing' : describeObject(state.carrying)}`);
  return lines.join('\n');
}

/** The agent's view of `state` in `encoding`; ascii and tuples add what is carried on a last line. */
export function encodeObservation(task: MinigridTask, state: MinigridState, encoding: Encoding): string {
  const cells = viewCells(task, state);
  switch (encoding) {
    case 'ascii':
      return `${encodeAscii(cells)}\n${carryingLine(state)}`;
    case 'tuples':
      return `${encodeTuples(cells)}\n${carryingLine(state)}`;
    case 'natural':
      return encodeNatural(cells, state);
    case 'relative':
      return encodeRelative(cells, state);
  }
}
