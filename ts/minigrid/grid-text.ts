// Grids as text: the fixtures' hex triples (what `Grid.encode` holds) and Minigrid's `pprint_grid` letters, which
// hand-made test grids and the ascii encoding use.
import { OptNativeError } from '../errors.js';
import { Grid } from './grid.js';
import { COLORS, decodeObject, makeObject, type Color, type WorldObject } from './objects.js';

/** Rows joined by '/', three base-16 digits (object, colour, state) per cell. */
export function parseTriplesText(text: string): Grid {
  const rows = text.split('/');
  const width = (rows[0]?.length ?? 0) / 3;
  const grid = new Grid(width, rows.length);
  rows.forEach((row, y) => {
    for (let x = 0; x < width; x += 1) {
      const [type, color, state] = [0, 1, 2].map((offset) => parseInt(row[x * 3 + offset] ?? '0', 16));
      grid.set(x, y, decodeObject(type ?? 0, color ?? 0, state ?? 0));
    }
  });
  return grid;
}

const LETTER_TYPES = { W: 'wall', F: 'floor', K: 'key', A: 'ball', B: 'box', G: 'goal', V: 'lava' } as const;
const AGENT_LETTERS = ['>', 'V', '<', '^'];

function colorOf(letter: string): Color {
  const color = COLORS.find((name) => name[0]?.toUpperCase() === letter);
  if (color === undefined) throw new OptNativeError('E_BAD_INPUT', `no colour starts with "${letter}"`);
  return color;
}

/** One `pprint_grid` cell: 'WG' wall, 'KY' yellow key, 'LY' locked and 'DY' closed door, '_Y' open door, '  '. */
function cellFromLetters(letters: string): WorldObject | null {
  const [kind = ' ', colorLetter = ' '] = letters;
  if (kind === ' ') return null;
  if (kind === 'L') return makeObject('door', colorOf(colorLetter), { doorState: 'locked' });
  if (kind === 'D') return makeObject('door', colorOf(colorLetter), { doorState: 'closed' });
  if (kind === '_')
    return makeObject('door', colorLetter === '_' ? 'blue' : colorOf(colorLetter), { doorState: 'open' });
  const type = LETTER_TYPES[kind as keyof typeof LETTER_TYPES];
  if (type === undefined) throw new OptNativeError('E_BAD_INPUT', `unknown grid cell "${letters}"`);
  // 'G' is green or grey in pprint_grid; walls are grey, everything else green.
  if (type === 'goal' || type === 'lava' || type === 'wall') return makeObject(type);
  return makeObject(type, colorOf(colorLetter), type === 'box' ? { contains: null } : {});
}

export interface LetterGrid {
  grid: Grid;
  agentX: number;
  agentY: number;
  agentDir: number;
}

/** A grid in `pprint_grid` letters (two characters a cell; the agent is '>>', 'VV', '<<' or '^^'). */
export function parseLetterGrid(text: string): LetterGrid {
  const rows = text.split('\n').filter((row) => row.length > 0);
  const width = (rows[0]?.length ?? 0) / 2;
  const parsed: LetterGrid = { grid: new Grid(width, rows.length), agentX: -1, agentY: -1, agentDir: -1 };
  rows.forEach((row, y) => {
    if (row.length !== width * 2) throw new OptNativeError('E_BAD_INPUT', `grid row ${y} is not ${width} cells wide`);
    for (let x = 0; x < width; x += 1) {
      const letters = row.slice(x * 2, x * 2 + 2);
      const agentDir = AGENT_LETTERS.indexOf(letters[0] ?? '');
      if (agentDir >= 0 && letters[1] === letters[0]) Object.assign(parsed, { agentX: x, agentY: y, agentDir });
      else parsed.grid.set(x, y, cellFromLetters(letters));
    }
  });
  if (parsed.agentX < 0) throw new OptNativeError('E_BAD_INPUT', 'the grid has no agent (>>, VV, << or ^^)');
  return parsed;
}

const TYPE_LETTERS: Record<string, string> = {
  wall: 'W',
  floor: 'F',
  key: 'K',
  ball: 'A',
  box: 'B',
  goal: 'G',
  lava: 'V',
};

/** A cell in `pprint_grid` letters. */
export function cellLetters(cell: WorldObject | null): string {
  if (cell === null) return '  ';
  const color = cell.color[0]?.toUpperCase() ?? ' ';
  if (cell.type === 'door') {
    if (cell.doorState === 'open') return '__';
    return (cell.doorState === 'locked' ? 'L' : 'D') + color;
  }
  return (TYPE_LETTERS[cell.type] ?? '?') + color;
}
