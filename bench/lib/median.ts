/** The middle value of a run of measurements (the upper middle for an even count), the figure every bench reports per round. */
export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
