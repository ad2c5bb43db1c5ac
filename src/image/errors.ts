// One error type for everything image-related: its message is the one line the user sees.
export class ImageError extends Error {
  constructor(message: string, readonly exitCode = 125) {
    super(message);
  }
}
