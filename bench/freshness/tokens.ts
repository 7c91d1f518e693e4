/** Short words, so a 400-token answer (about 4.5 characters a token) fits one Discord message. */
const WORDS = (
  "a an the it is we so to of in on at by or as be do go no up us my me he she you they was " +
  "edit text shown late fast slow wait time user read bot chat reply line word each one two"
).split(" ");

/** The answer the fake model streams for question `key`: `count` tokens, the same in both processes. */
export function answerTokens(key: string, count: number): string[] {
  let x = [...key].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 2147483648, 7);
  const next = (n: number) => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x % n;
  };
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    const word = WORDS[next(WORDS.length)] as string;
    tokens.push(i === 0 ? word : next(12) === 0 ? `. ${word}` : ` ${word}`);
  }
  tokens[count - 1] += ".";
  return tokens;
}

/** The question's key in what the model was asked ("q:<key>"). */
export function keyOf(question: string): string | undefined {
  return question.match(/q:([\w-]+)/)?.[1];
}
