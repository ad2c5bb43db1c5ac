// Linux containers: the delegate runs the user's bundle exactly as given.
// (ociVersion too new for crun 1.8.1 is handled by the lifecycle, not here: see docs/oci-cli.md.)
import type { Handler } from './types.js';

export const linuxHandler: Handler = {
  name: 'linux',
  async prepare(ctx) {
    return { bundle: ctx.bundle };
  },
};
