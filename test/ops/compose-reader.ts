// Reads what the compose test needs from `docker-compose config` output: per service, its
// image, whether it is built here, its command list and its environment. That output is PyYAML's block style
// (services at indent 2, keys at 4, list items `- x` at 4, scalars plain or single-quoted), so a
// line reader for that shape is enough; anything else in it is skipped, not interpreted.
export interface ComposeService {
  name: string;
  image: string | undefined;
  built: boolean;
  command: string[];
  environment: Record<string, string>;
}

function scalar(text: string): string {
  const t = text.trim();
  if (t.startsWith("'") && t.endsWith("'")) return t.slice(1, -1).replaceAll("''", "'");
  if (t.startsWith('"') && t.endsWith('"')) return JSON.parse(t) as string;
  return t;
}

export function readComposeServices(resolvedYaml: string): ComposeService[] {
  const services: ComposeService[] = [];
  let inServices = false;
  let current: ComposeService | undefined;
  let key = '';
  for (const line of resolvedYaml.split('\n')) {
    if (/^\S/.test(line)) {
      inServices = line.startsWith('services:');
      current = undefined;
      continue;
    }
    if (!inServices) continue;
    const service = /^ {2}([^\s:][^:]*):\s*$/.exec(line);
    if (service) {
      current = { name: service[1], image: undefined, built: false, command: [], environment: {} };
      services.push(current);
      continue;
    }
    if (!current) continue;
    const entry = /^ {4}([A-Za-z_]+):\s*(.*)$/.exec(line);
    if (entry) {
      key = entry[1];
      if (key === 'image') current.image = scalar(entry[2]);
      if (key === 'build') current.built = true;
      if (key === 'command' && entry[2]) current.command = entry[2].trim().split(/\s+/); // string form
      continue;
    }
    const variable = /^ {6}([A-Za-z_][A-Za-z0-9_]*):\s*(.*)$/.exec(line);
    if (variable && key === 'environment') {
      current.environment[variable[1]] = scalar(variable[2]);
      continue;
    }
    const item = /^ {4}- (.*)$/.exec(line);
    // PyYAML folds long scalars onto indented continuation lines; commands here are short.
    if (item && key === 'command') current.command.push(scalar(item[1]));
  }
  return services;
}

/** Subcommand names from commander's `--help` output (the "Commands:" section). */
export function subcommandsFromHelp(help: string): Set<string> {
  const names = new Set<string>();
  const section = help.split(/^Commands:$/m)[1] ?? '';
  for (const line of section.split('\n')) {
    const m = /^ {2}([a-z][\w-]*)/.exec(line);
    if (m) names.add(m[1]);
  }
  return names;
}

/** Long options (`--name`) a subcommand's `--help` lists. */
export function optionsFromHelp(help: string): Set<string> {
  return new Set([...help.matchAll(/(?:^|[\s,])(--[a-z][\w-]*)/gm)].map((m) => m[1]));
}
