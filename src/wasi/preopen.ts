// STUB: to be replaced by the preopened-directory descriptors (guest fds 3…).
import type { WasiContext } from './context.js';

export function setupPreopens(_ctx: WasiContext): void {}
