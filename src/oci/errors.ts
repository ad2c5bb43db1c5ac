// One error type for everything the OCI commands refuse: `message` is the single line the user (or
// the engine parsing our log) sees; keep runc's wording where engines match on it.
export class OciError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

export const notExist = (id: string): OciError => new OciError(`container "${id}" does not exist`);
