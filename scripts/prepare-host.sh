#!/usr/bin/env bash
# Host preparation the end-to-end tests need on this machine kind (idempotent).
set -euo pipefail

# crun refuses "hybrid" cgroups (v1 hierarchies plus a cgroup2 mount holding a controller).
# Here the unified mount holds hugetlb; giving hugetlb its own v1 hierarchy frees it.
if [[ -d /sys/fs/cgroup/unified ]] && grep -qw hugetlb /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null; then
  if ! mountpoint -q /sys/fs/cgroup/hugetlb; then
    mkdir -p /sys/fs/cgroup/hugetlb
    mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb
  fi
fi
