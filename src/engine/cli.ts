// Entry of the engine commands (bundled as dist/engine.cjs, loaded by the CLI only for `install`
// and `doctor`, so the TOML library never weighs on container commands).
import { EngineError } from './errors.js';
import { runInstall } from './install.js';

export async function runEngineCommand(command: string, argv: string[]): Promise<number> {
  try {
    if (command === 'install') return runInstall(argv);
    if (command === 'doctor') {
      const { runDoctor } = await import('./doctor.js');
      return runDoctor(argv);
    }
    throw new EngineError(`unknown engine command ${command}`, 2);
  } catch (error) {
    if (error instanceof EngineError) {
      process.stderr.write(`hyrun: ${error.message}\n`);
      return error.exitCode;
    }
    throw error;
  }
}
