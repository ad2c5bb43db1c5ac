#!/usr/bin/env python3
# The wasmtime peer of the benchmarks when only wasmtime's Python package is installed (no CLI):
# runs one WASI command as `wasmtime run` would. Usage: wasmtime-run.py [--dir HOST::GUEST]... FILE [ARGS...]
# The guest gets the arguments and preopens only (no environment), inherits stdio, and its
# proc_exit code becomes the exit status.
import sys

from wasmtime import Engine, ExitTrap, Linker, Module, Store, WasiConfig


def main() -> None:
    argv = sys.argv[1:]
    dirs = []
    while len(argv) >= 2 and argv[0] == '--dir':
        host, _, guest = argv[1].partition('::')
        dirs.append((host, guest or host))
        argv = argv[2:]
    path, args = argv[0], argv[1:]
    engine = Engine()
    store = Store(engine)
    config = WasiConfig()
    config.argv = [path] + args
    config.inherit_stdin()
    config.inherit_stdout()
    config.inherit_stderr()
    for host, guest in dirs:
        config.preopen_dir(host, guest)
    store.set_wasi(config)
    linker = Linker(engine)
    linker.define_wasi()
    instance = linker.instantiate(store, Module.from_file(engine, path))
    try:
        instance.exports(store)['_start'](store)
    except ExitTrap as e:
        sys.exit(e.code)
    sys.exit(0)


main()
