#!/usr/bin/env bash
# Every counter the data plane exports is documented in docs/operations.md,
# and every status in docs/protocol.md: names are read from the headers.
set -euo pipefail
SRC=${WE_SOURCE_DIR:?}
missing=0
for name in $(sed -n 's/^[[:space:]]*X(\([a-z0-9_]*\), ".*/\1/p' "$SRC/dataplane/worker_stats.h"); do
  grep -q "\`$name\`" "$SRC/docs/operations.md" || { echo "counter $name missing from docs/operations.md"; missing=1; }
done
for name in $(sed -n 's/^[[:space:]]*X(\([A-Z_]*\), [0-9]*, ".*/\1/p' "$SRC/include/we_status.h"); do
  grep -q "$name" "$SRC/docs/protocol.md" || { echo "status $name missing from docs/protocol.md"; missing=1; }
done
[ $missing = 0 ] && echo "docs list every counter and status"
exit $missing
