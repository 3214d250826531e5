# dp_test_lib.sh - sourced by the integration tests that run a data plane in
# a private network namespace (scripts/testnet.sh) and talk to its control
# socket: what they need, their work folder and its clean-up, and the
# messages and requests every such test writes.
#
#   dp_test_begin NAME   skip (77) unless root with ip and jq; WORK (a fresh
#                        folder, kept when WE_TEST_KEEP is set), LOG, SOCK;
#                        the clean-up on exit (BL_PID killed, testnet down)
#   fail TEXT            print TEXT, the data plane log's tail and what
#                        dp_test_fail_extra (if the test defines it) adds; exit 1
#   pass TEXT            "ok - TEXT"
#   req JSON             the control socket's answer
#   field JSON FILTER    jq FILTER of the answer
# The test sets BUILD and SRC first.

dp_test_begin() {
  if [ "$(id -u)" != 0 ]; then
    echo "SKIP: needs root for network namespaces and AF_PACKET"
    exit 77
  fi
  command -v ip >/dev/null || { echo "SKIP: 'ip' not installed"; exit 77; }
  command -v jq >/dev/null || { echo "SKIP: 'jq' not installed (scripts/install-deps.sh installs it)"; exit 77; }
  . "$SRC/scripts/testnet.sh"
  WORK=$(mktemp -d "/tmp/we-$1.XXXXXX")
  LOG=$WORK/dp.log
  SOCK=$WORK/ctl.sock
  REQ=$BUILD/tests/integration/ctl_request
  BL_PID=""
  trap dp_test_cleanup EXIT
}

dp_test_cleanup() {
  [ -n "${BL_PID:-}" ] && kill "$BL_PID" 2>/dev/null || true
  testnet_down
  [ -n "${WE_TEST_KEEP:-}" ] && echo "kept $WORK" || rm -rf "$WORK"
}

fail() {
  echo "FAIL: $*" >&2
  tail -n 20 "$LOG" >&2 || true
  if declare -F dp_test_fail_extra >/dev/null; then dp_test_fail_extra >&2 || true; fi
  exit 1
}
pass() { echo "ok - $*"; }
req() { "$REQ" "$SOCK" "$@"; }
field() { req "$1" | jq -r "$2"; }
