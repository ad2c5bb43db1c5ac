/** Bad input to `hyrun install` / `doctor`: one line for the user, exit status 1, nothing written. */
export class EngineError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}
