/**
 * Negotiated feature overrides, as every door sends them: an object of
 * flag → setting (the HTTP API, the Slack modal) or "flag=setting" strings
 * (the CLI's repeatable --feature). A setting is on/off or true/false, in any
 * case; anything else ("disabled", "none", "yes") is refused rather than
 * guessed, and so is a flag that is not in the catalogue, including names
 * such as "__proto__" that a plain object would silently swallow.
 */

export type FeatureOverridesResult = { ok: true; overrides: Record<string, boolean> } | { ok: false; problems: string[] };

const SETTINGS: ReadonlyMap<string, boolean> = new Map([
  ['on', true],
  ['true', true],
  ['off', false],
  ['false', false],
]);

type Entry = { flag: string; setting: unknown } | { problem: string };

export function parseFeatureOverrides(raw: unknown, knownFlags: readonly string[]): FeatureOverridesResult {
  const known = new Set(knownFlags);
  const overrides = new Map<string, boolean>();
  const problems: string[] = [];
  for (const entry of entriesOf(raw)) {
    if ('problem' in entry) {
      problems.push(entry.problem);
      continue;
    }
    const { flag, setting } = entry;
    if (!known.has(flag)) {
      problems.push(`Unknown feature flag "${flag}"; known flags: ${knownFlags.join(', ')}`);
      continue;
    }
    const on = settingOf(setting);
    if (on === undefined) problems.push(`Feature "${flag}" must be on or off (or true or false), not ${shown(setting)}`);
    else if (overrides.has(flag) && overrides.get(flag) !== on) problems.push(`Feature "${flag}" is set both on and off; set it once`);
    else overrides.set(flag, on);
  }
  // Every key is a known flag, so the plain object cannot be given a prototype or a stray key.
  return problems.length > 0 ? { ok: false, problems } : { ok: true, overrides: Object.fromEntries(overrides) };
}

function entriesOf(raw: unknown): Entry[] {
  if (raw === undefined) return [];
  if (Array.isArray(raw)) return raw.map(entryOfText);
  // Object.entries lists own keys only, "__proto__" included when JSON.parse made it one.
  if (raw !== null && typeof raw === 'object') return Object.entries(raw).map(([flag, setting]) => ({ flag, setting }));
  return [{ problem: 'Feature overrides must map each flag to on or off, e.g. { "sso": true }' }];
}

/** "sso=on" → { flag: "sso", setting: "on" }. */
function entryOfText(item: unknown): Entry {
  if (typeof item !== 'string') return { problem: `Give each feature override as flag=on or flag=off, not ${shown(item)}` };
  const at = item.indexOf('=');
  if (at === -1) return { problem: `Feature override "${item}" has no setting; write ${item.trim()}=on or ${item.trim()}=off` };
  const flag = item.slice(0, at).trim();
  if (flag === '') return { problem: `Feature override "${item}" names no flag; write flag=on or flag=off, e.g. sso=on` };
  return { flag, setting: item.slice(at + 1) };
}

function settingOf(setting: unknown): boolean | undefined {
  if (typeof setting === 'boolean') return setting;
  if (typeof setting === 'string') return SETTINGS.get(setting.trim().toLowerCase());
  return undefined;
}

function shown(value: unknown): string {
  return typeof value === 'string' ? `"${value}"` : String(JSON.stringify(value));
}
