// The shared action of `npm run bench -- …` and `meshserve bench …`: usage errors exit 2.
import { runSuites, UnknownSuiteError } from '../../bench/suites.js';

export async function benchAction(args: string[]): Promise<void> {
  try {
    await runSuites(args);
  } catch (err) {
    if (!(err instanceof UnknownSuiteError)) throw err;
    console.error(err.message);
    process.exit(2);
  }
}
