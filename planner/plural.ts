// Counted nouns in messages and reports: "1 window", "2 windows".

/** `n` and the noun in the form that agrees with it. */
export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
