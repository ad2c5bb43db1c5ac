import type { Store } from './store.js';
import type { Platform } from './media.js';
export async function pullImage(_s: Store, _n: string, _o: { platform?: Platform; log?: (l: string) => void; tlsVerify?: boolean }): Promise<void> {}
