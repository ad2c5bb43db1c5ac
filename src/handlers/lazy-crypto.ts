// node:crypto takes ~3 ms to load, and most hyrun calls (start, delete, state, kill, a Linux
// create) never use it, so it is loaded on first use.
import { createRequire } from 'node:module';

let loaded: typeof import('node:crypto') | undefined;

export const lazyCrypto = (): typeof import('node:crypto') => (loaded ??= createRequire(import.meta.url)('node:crypto'));

/** Random hex for temporary file names (`bytes` random bytes). */
export const randomHex = (bytes: number): string => lazyCrypto().randomBytes(bytes).toString('hex');
