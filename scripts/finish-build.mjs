// Build step after tsc: the `meshserve` bin stays executable when dist/ is rebuilt from scratch
// (tsc writes plain files; npm set the bit only when it linked the bin), and the dashboard's
// static files go next to their compiled server, so dist/ is complete on its own.
import { chmodSync, cpSync } from 'node:fs';

chmodSync('dist/scripts/meshserve.js', 0o755);
cpSync('ops/dashboard/static', 'dist/ops/dashboard/static', { recursive: true });
