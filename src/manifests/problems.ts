// What is wrong with a manifest, said so a platform engineer can go straight to it:
// the file, the path inside it, and the line (and column, where the YAML parser knows it).
// Kept apart from the loader so the CLI can recognise a ManifestError without loading it.

export type ManifestProblem = { file: string; path: string; message: string; line?: number; column?: number };

export class ManifestError extends Error {
  /** The manifest file at fault, or the manifests directory when several files are. */
  readonly file: string;
  readonly problems: readonly ManifestProblem[];

  constructor(file: string, problems: readonly ManifestProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ManifestError';
    this.file = file;
    this.problems = problems;
  }
}

export function formatProblem(problem: ManifestProblem): string {
  const where = problem.path === '' ? '' : `${problem.path}: `;
  return `${problem.file}: ${where}${problem.message}${formatPlace(problem)}`;
}

function formatPlace({ line, column }: ManifestProblem): string {
  if (line === undefined) return '';
  return column === undefined ? ` (line ${line})` : ` (line ${line}, column ${column})`;
}
