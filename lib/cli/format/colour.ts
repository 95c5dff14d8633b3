// Colour for the terminal: only when the stream is a TTY and NO_COLOR (https://no-color.org) is
// unset or empty, so pipes, files and scripts get plain text.
export type Hue = 'red' | 'green' | 'yellow' | 'dim' | 'bold';

const codes: Record<Hue, [number, number]> = {
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  dim: [2, 22],
  bold: [1, 22],
};

export type Paint = (hue: Hue | undefined, text: string) => string;

/** Whether to colour what goes to `stream`. */
export function wantsColour(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return stream.isTTY === true;
}

/** A painter: the identity when colour is off. */
export function painter(on: boolean): Paint {
  if (!on) return (_hue, text) => text;
  return (hue, text) => (hue === undefined || text === '' ? text : `\x1b[${codes[hue][0]}m${text}\x1b[${codes[hue][1]}m`);
}
