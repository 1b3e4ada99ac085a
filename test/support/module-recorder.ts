/**
 * Preloaded with `node --import` into a child process: writes the URL of every
 * module the process resolves, one a line, to the file named by
 * RECORD_MODULES_TO, so a test can tell which packages a process really loaded.
 * Node's synchronous hooks see both `import` and `require`, static and dynamic.
 */
import { appendFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const file = process.env['RECORD_MODULES_TO'];
if (!file) throw new Error('module-recorder: set RECORD_MODULES_TO to the file that receives the resolved module URLs');
const seen = new Set<string>();

registerHooks({
  resolve(specifier, context, nextResolve) {
    const resolved = nextResolve(specifier, context);
    if (!seen.has(resolved.url)) {
      seen.add(resolved.url);
      appendFileSync(file, `${resolved.url}\n`);
    }
    return resolved;
  },
});
