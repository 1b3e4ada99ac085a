/**
 * Words for people: how refusals and answers name what someone typed, steps
 * and their states. One place, so the CLI, Slack and the web say the same.
 */

/** What someone typed, quoted back to them: cut, so 10 KB pasted by mistake does not drown the answer. */
export function typedBack(text: string, max = 60): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** "no job found" → "No job found." */
export function sentence(text: string): string {
  const trimmed = text.trim();
  const capital = `${trimmed.charAt(0).toUpperCase()}${trimmed.slice(1)}`;
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}
