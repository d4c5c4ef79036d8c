import type { Command } from "commander"; export function registerPlan(_p: Command): void {}
