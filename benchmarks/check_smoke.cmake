# ctest bench_smoke: the benchmark runs in --quick mode and writes a CSV that its own reader accepts
# (header, same field count on every row, finite positive rates, zero allocations per step).
# Usage: cmake -DBENCH=path/to/wgflow_bench -DOUT=prefix -P check_smoke.cmake
execute_process(COMMAND ${BENCH} --quick --csv ${OUT}.csv --json ${OUT}.json RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "wgflow_bench --quick failed (${rc})")
endif()
execute_process(COMMAND ${BENCH} --validate ${OUT}.csv RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "wgflow_bench --validate rejected ${OUT}.csv (${rc})")
endif()
if(NOT EXISTS ${OUT}.json)
  message(FATAL_ERROR "no JSON written")
endif()
