// Placeholder entry until the CLI lands: proves the bundle and bin wiring.
process.stdout.write('hyrun 0.1.0\n');
