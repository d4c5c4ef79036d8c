// The planner's file formats on disk: scenarios (and the profiles and traces they name), profiles
// JSON and traces. The planner itself does no I/O; this is where its text meets the file system,
// for the CLI, the profiler and tests.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { profilesFromText, profilesToText } from '../planner/profile.js';
import { type Scenario, type ScenarioFiles, scenarioFromText } from '../planner/scenario.js';
import type { ModelProfile, Workload } from '../planner/types.js';
import { traceFromText, traceToText } from '../planner/workload/trace.js';

const readText = (path: string): string => readFileSync(path, 'utf8');

/** Reads a file; a failure names what it was meant to be (`cannot read profiles p.json: …`). */
function readNamed(path: string, what: string): string {
  try {
    return readText(path);
  } catch (e) {
    throw new Error(`cannot read ${what} ${path}: ${(e as Error).message}`);
  }
}

/** Reads and builds a scenario file; relative paths in it resolve against its folder. */
export function loadScenarioFile(path: string): Scenario {
  const files: ScenarioFiles = { baseDir: dirname(resolve(path)), read: readText };
  return scenarioFromText(readNamed(path, 'scenario'), path, files);
}

export function loadProfilesFile(path: string): ModelProfile[] {
  return profilesFromText(readNamed(path, 'profiles'), path);
}

export function saveProfilesFile(path: string, profiles: readonly ModelProfile[]): void {
  writeFileSync(path, profilesToText(profiles));
}

/** Reads a trace file; the encoding follows the extension (.json, otherwise CSV). */
export function readTraceFile(path: string): Workload {
  return traceFromText(readNamed(path, 'trace'), path);
}

export function writeTraceFile(path: string, w: Workload): void {
  writeFileSync(path, traceToText(w, path));
}
