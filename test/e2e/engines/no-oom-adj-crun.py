#!/usr/bin/python3
# Test-setup shim for CRI-O on this machine kind only (see ../shared/cri/README.md): root here lacks
# CAP_SYS_RESOURCE, so the negative oom_score_adj CRI-O gives its pause container (-998) cannot be
# written and every pod fails. Used as hyrun's delegate (HYRUN_DELEGATE) in the CRI-O test, it drops
# a negative process.oomScoreAdj from the config crun is given, then runs the real crun. hyrun's own
# behaviour is unchanged; a node with CAP_SYS_RESOURCE needs none of this.
import json, os, sys

CRUN = '/usr/bin/crun'
args = sys.argv[1:]

def without_negative_oom(path):
    with open(path) as f:
        config = json.load(f)
    proc = config.get('process') or {}
    if not isinstance(proc.get('oomScoreAdj'), int) or proc['oomScoreAdj'] >= 0:
        return None
    del proc['oomScoreAdj']
    out = path + '.no-oom-adj.json'
    with open(out, 'w') as f:
        json.dump(config, f)
    return out

for command in ('create', 'run'):
    if command in args:
        at = args.index(command)
        sub = args[at + 1:]
        if '--config' in sub:
            i = at + 1 + sub.index('--config')
            new = without_negative_oom(args[i + 1])
            if new:
                args[i + 1] = new
        else:
            bundle = sub[sub.index('--bundle') + 1] if '--bundle' in sub else '.'
            new = without_negative_oom(os.path.join(bundle, 'config.json'))
            if new:
                args[at + 1:at + 1] = ['--config', new]
        break
os.execv(CRUN, ['crun'] + args)
