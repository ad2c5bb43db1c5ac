// STUB: to be replaced by the stdio descriptors (guest fds 0, 1, 2).
import type { WasiContext } from './context.js';

export function setupStdio(_ctx: WasiContext): void {}
