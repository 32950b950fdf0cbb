#!/usr/bin/env bash
# Cancel the given job ids.
exec scancel "$@"
