// Polling for a condition in tests, with a timeout that names what was awaited (dev/faults/wait.ts).
export { sleep, until } from '../../dev/faults/wait.js';
