#!/bin/sh
# The installer DaemonSet's process. ENGINE: containerd | crio. ACTION: install | uninstall.
# The node's root is mounted at /host (HOST_ROOT to override, as the tests do).
set -eu
host="${HOST_ROOT:-/host}"
engine="${ENGINE:-containerd}"
restart="--restart"
# The label step runs on hyrun's own node (the image has no other): through its loader, with its libraries.
hyrun_node() {
  read -r ld < /opt/hyrun/node/loader
  "/opt/hyrun/node/$ld" --inhibit-cache --library-path /opt/hyrun/node/lib /opt/hyrun/node/node "$@"
}
[ "${NO_RESTART:-}" = 1 ] && restart=""
case "${ACTION:-install}" in
  install)
    hyrun install "$engine" --host-root "$host" $restart
    hyrun_node /installer/label-node.cjs set
    echo "hyrun-node-installer: installed"
    ;;
  uninstall)
    if hyrun install "$engine" --host-root "$host" --uninstall $restart; then :; else
      echo "hyrun-node-installer: nothing (more) to uninstall"
    fi
    hyrun_node /installer/label-node.cjs remove
    echo "hyrun-node-installer: uninstalled"
    ;;
  *)
    echo "hyrun-node-installer: ACTION must be install or uninstall, not '${ACTION}'" >&2
    exit 2
    ;;
esac
[ "${ONESHOT:-}" = 1 ] && exit 0
# A DaemonSet pod must keep running; the work is done.
while :; do sleep 3600; done
