export async function containerCommand(_command: string, _args: string[]): Promise<number> { return 1; }
