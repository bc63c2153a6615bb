#!/usr/bin/env bash
# run_hostile.sh BIN DIR: hami-compat on hostile vector files (issue 14). Each malformed case
# must be reported as a FAIL line and the run must end normally with "1 passed, 6 failed";
# a file with invalid UTF-8 or nesting 100000 deep must be refused with exit status 2 and its
# own message. Any crash (exit > 128), hang (ctest timeout) or other result fails the test.
set -u
bin="$1"; dir="$2"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAILED: $*"; exit 1; }

out="$("$bin" --deviations "" --vectors "$dir/hostile-vectors.json" 2>&1)"; rc=$?
echo "$out"
[[ $rc -eq 1 ]] || fail "hostile cases: exit $rc, want 1"
[[ "$out" == *"1 passed, 6 failed, 0 skipped"* ]] || fail "hostile cases: wrong summary"
for id in numeric-category devices-count-negative devices-count-huge erase-calls-huge \
          input-not-object; do
  [[ "$out" == *"FAIL $id "* ]] || fail "case $id not reported"
done

printf '{"cases": [{"id": "a\xff", "category": "x"}]}' >"$tmp/utf8.json"
out="$("$bin" --deviations "" --vectors "$tmp/utf8.json" 2>&1)"; rc=$?
echo "$out"
[[ $rc -eq 2 && "$out" == *"invalid UTF-8 at byte offset"* ]] || fail "invalid UTF-8: exit $rc"

{ printf '{"cases": ['; head -c 100000 /dev/zero | tr '\0' '['; head -c 100000 /dev/zero | tr '\0' ']'; printf ']}'; } >"$tmp/deep.json"
out="$("$bin" --deviations "" --vectors "$tmp/deep.json" 2>&1)"; rc=$?
echo "$out"
[[ $rc -eq 2 && "$out" == *"nested deeper than"* ]] || fail "deep nesting: exit $rc"
echo "hostile vector files handled"
