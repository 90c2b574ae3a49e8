#!/usr/bin/env bash
# Refuse to preview or deploy a stack this repository ships as an example or for the lab: CI's `pulumi up`
# must only ever touch the stacks the operator declared (the repository variable PULUMI_STACKS).
#   bash scripts/deployable-stack.sh <stack>     exit 0: deployable; exit 1: refused, with the reason
set -euo pipefail
cd "$(dirname "$0")/.."
stacks_dir="${DJANGO_HA_STACKS_DIR:-stacks}"

stack="${1:-}"
if [ -z "$stack" ]; then
  echo "usage: scripts/deployable-stack.sh <stack>" >&2
  exit 2
fi
case "$stack" in
  *-example | lab | lab-*)
    echo "refused: \"$stack\" is an example or lab stack of this repository; list your own stacks in the repository variable PULUMI_STACKS, e.g. [\"production\"]" >&2
    exit 1
    ;;
esac
if [[ ! "$stack" =~ ^[A-Za-z0-9._-]+$ ]]; then
  echo "refused: \"$stack\" is not a stack name (letters, digits, '.', '_', '-')" >&2
  exit 1
fi
if [ ! -f "$stacks_dir/Pulumi.$stack.yaml" ]; then
  echo "refused: $stacks_dir/Pulumi.$stack.yaml does not exist; commit the stack's config (secrets encrypted with pulumi config set --secret) or remove \"$stack\" from PULUMI_STACKS" >&2
  exit 1
fi
echo "deployable: $stack"
