#!/usr/bin/env bash
# run_vectors.sh BIN VECTORS [expect-fail]
# Runs hami-compat on VECTORS: 0 failed and 0 skipped. Exit 77 (ctest: skipped) when the file is
# absent. With "expect-fail", succeeds only if the runner fails and names the broken case
# "trim-broken".
set -u
bin="$1"; vectors="$2"; mode="${3:-}"
if [[ ! -f "$vectors" ]]; then
  echo "vector file $vectors not found: skipping"
  exit 77
fi
out="$("$bin" --vectors "$vectors" 2>&1)"; rc=$?
echo "$out"
if [[ "$mode" == "expect-fail" ]]; then
  [[ $rc -ne 0 && "$out" == *"FAIL trim-broken"* && "$out" == *"1 passed, 1 failed"* ]] || {
    echo "hami-compat did not report the broken case (rc=$rc)"; exit 1; }
  exit 0
fi
[[ $rc -eq 0 && "$out" == *" 0 failed"* ]] || { echo "hami-compat reported failures (rc=$rc)"; exit 1; }
# Every category has a handler now (issue 14 added webhook_decision): a skip is a regression.
[[ "$out" == *" 0 skipped"* ]] || { echo "hami-compat skipped cases"; exit 1; }
