export async function runDoctor(_argv: string[]): Promise<number> { process.stderr.write("hyrun: doctor: not yet\\n"); return 1; }
