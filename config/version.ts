// meshserve's version: the one in package.json.
import { readFileSync } from 'node:fs';

export function meshserveVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string })
    .version;
}
