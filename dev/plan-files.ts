// `meshserve plan` on disk: the plan file and what it names (profiles files, traces, model
// repositories), and what a plan writes into its output folder: a placement file and a scenario
// per system, the curves as CSV and SVG.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { type Plan, type PlanFiles, planFromText } from '../planner/capacity/plan-file.js';
import { planCsv, planScenario, planSvg } from '../planner/capacity/report.js';
import type { PlanOutcome } from '../planner/capacity/search.js';
import { readRepository } from './model-import/repository.js';
import { writePlacementFile } from './placement-file.js';

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${what} ${path}: ${(e as Error).message}`);
  }
}

/** A model repository's imported models: each needs the profile.json `meshserve import` writes. */
function repositoryModels(path: string): ReturnType<PlanFiles['repository']> {
  const models = readRepository(path);
  const unprofiled = models.filter((m) => !m.previous);
  if (unprofiled.length)
    throw new Error(
      `model "${unprofiled[0].name}" in ${path} has no readable ${relative(path, unprofiled[0].profileFile)}: run \`meshserve import\` (or serve) on the repository first`,
    );
  return {
    profiles: models.map((m) => m.previous!),
    slos: Object.fromEntries(models.map((m) => [m.name, m.config.slo])),
  };
}

/** Reads and checks a plan file; relative paths in it resolve against its folder. */
export function loadPlanFile(path: string): Plan {
  const baseDir = dirname(resolve(path));
  const files: PlanFiles = {
    baseDir,
    read: (p) => readFileSync(p, 'utf8'),
    repository: (p) => repositoryModels(resolve(baseDir, p)),
  };
  return planFromText(readText(path, 'plan'), path, files);
}

export interface PlanOutputs {
  /** The placement file of each system, by name (a path as given with the folder). */
  readonly placements: Readonly<Record<string, string>>;
  /** The scenario of each system that placed something. */
  readonly scenarios: Readonly<Record<string, string>>;
  readonly svg: string;
  readonly csv: string;
}

/** The placement file a plan writes for `system` in `outDir`. */
export function planPlacementFile(outDir: string, system: string): string {
  return join(outDir, `${system}.placement.json`);
}

/** Writes a plan's placements, scenarios and curves into `outDir` (created if missing). */
export function writePlanOutputs(outDir: string, planPath: string, plan: Plan, outcome: PlanOutcome): PlanOutputs {
  mkdirSync(outDir, { recursive: true });
  const placements: Record<string, string> = {};
  const scenarios: Record<string, string> = {};
  // The traffic's paths are relative to the plan's folder; a scenario's to its own.
  const planDir = dirname(resolve(planPath));
  const rebase = (p: string) => relative(resolve(outDir), resolve(planDir, p));
  for (const s of outcome.systems) {
    const file = planPlacementFile(outDir, s.name);
    writePlacementFile(file, s.chosen.result.placement, {
      strategy: s.chosen.result.algorithm,
      reason: `meshserve plan ${planPath}: ${s.chosen.devices} devices`,
      profiles: plan.profiles,
      sim: plan.sim,
    });
    placements[s.name] = file;
    const scenario = planScenario(plan, s, rebase);
    if (scenario) {
      scenarios[s.name] = join(outDir, `${s.name}.scenario.json`);
      writeFileSync(scenarios[s.name], `${JSON.stringify(scenario, null, 2)}\n`);
    }
  }
  const svg = join(outDir, 'plan.svg');
  const csv = join(outDir, 'plan.csv');
  writeFileSync(svg, planSvg(plan, outcome));
  writeFileSync(csv, planCsv(outcome));
  return { placements, scenarios, svg, csv };
}
