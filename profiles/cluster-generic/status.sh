#!/usr/bin/env bash
# Print running, success or failed for a job id (the cluster-generic status protocol).
set -uo pipefail
state=$(squeue -h -j "$1" -o %T 2>/dev/null | head -n1)
if [ -z "$state" ]; then
    state=$(sacct -n -X -P -j "$1" -o State 2>/dev/null | head -n1 | cut -d' ' -f1)
fi
case "$state" in
    ""|PENDING|CONFIGURING|RUNNING|COMPLETING|SUSPENDED|REQUEUED|RESIZING) echo running ;;
    COMPLETED) echo success ;;
    *) echo failed ;;
esac
