export async function registryCommand(_command: string, _args: string[]): Promise<number> { return 1; }
