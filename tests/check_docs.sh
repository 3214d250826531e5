#!/usr/bin/env bash
# Every counter the data plane exports is documented in docs/operations.md,
# every status in docs/protocol.md (names are read from the headers), and each
# program's option table in its doc is exactly what the program prints with
# --help-markdown (from the same table its parser and --help use).
#
# The option tables sit between "<!-- BEGIN PROGRAM --help-markdown -->" and
# "<!-- END PROGRAM --help-markdown -->". WE_DOCS_UPDATE=1 rewrites them from
# the programs instead of comparing (then review the diff).
set -euo pipefail
SRC=${WE_SOURCE_DIR:?}
missing=0
for name in $(sed -n 's/^[[:space:]]*X(\([a-z0-9_]*\), ".*/\1/p' "$SRC/dataplane/worker_stats.h"); do
  grep -q "\`$name\`" "$SRC/docs/operations.md" || { echo "counter $name missing from docs/operations.md"; missing=1; }
done
for name in $(sed -n 's/^[[:space:]]*X(\([A-Z_]*\), [0-9]*, ".*/\1/p' "$SRC/include/we_status.h"); do
  grep -q "$name" "$SRC/docs/protocol.md" || { echo "status $name missing from docs/protocol.md"; missing=1; }
done

# check_options PROGRAM DOC COMMAND...: the block of PROGRAM in DOC equals
# the output of COMMAND (or is replaced by it with WE_DOCS_UPDATE=1).
check_options() {
  local prog=$1 doc=$2 begin end want have
  shift 2
  begin="<!-- BEGIN $prog --help-markdown -->"
  end="<!-- END $prog --help-markdown -->"
  if ! grep -qxF -- "$begin" "$doc" || ! grep -qxF -- "$end" "$doc"; then
    echo "$doc: no '$begin' ... '$end' block for $prog's options"
    missing=1
    return
  fi
  want=$("$@") || { echo "$prog --help-markdown failed"; missing=1; return; }
  have=$(awk -v b="$begin" -v e="$end" '$0 == e { on = 0 } on { print } $0 == b { on = 1 }' "$doc")
  if [ "${WE_DOCS_UPDATE:-0}" = 1 ]; then
    awk -v b="$begin" -v e="$end" -v f=<(printf '%s\n' "$want") '
      $0 == b { print; while ((getline l < f) > 0) print l; skip = 1; next }
      $0 == e { skip = 0 }
      !skip { print }' "$doc" > "$doc.tmp" && mv "$doc.tmp" "$doc"
    echo "$doc: $prog's options rewritten"
  elif [ "$want" != "$have" ]; then
    echo "$doc: $prog's option table differs from '$prog --help-markdown' (< doc, > program):"
    diff <(printf '%s\n' "$have") <(printf '%s\n' "$want") || true
    missing=1
  fi
}

check_options warpengine "$SRC/docs/operations.md" "${WE_WARPENGINE:?}" -- --help-markdown
check_options warp-blaster "$SRC/docs/blaster.md" "${WE_WARP_BLASTER:?}" --help-markdown
check_options warp-client "$SRC/docs/client.md" "${WE_WARP_CLIENT:?}" --help-markdown
check_options warp-control "$SRC/docs/control.md" "${WE_WARP_CONTROL:?}" --help-markdown

[ $missing = 0 ] && echo "docs list every counter, status and option"
exit $missing
