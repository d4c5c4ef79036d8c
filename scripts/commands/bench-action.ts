// The shared action of `npm run bench -- …` and `meshserve bench …`: usage errors exit 2.
import { runSuites, UnknownSuiteError } from '../../bench/suites.js';
import { fail } from './errors.js';

export async function benchAction(args: string[]): Promise<void> {
  try {
    await runSuites(args);
  } catch (err) {
    if (!(err instanceof UnknownSuiteError)) throw err;
    fail('bench', err, 2);
  }
}
