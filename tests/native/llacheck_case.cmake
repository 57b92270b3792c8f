# One llacheck command test: run llacheck on a golden case, then llacompare
# its outputs against the case. Fails when either command fails.
# Variables: LLACHECK, LLACOMPARE, CASE, OUT, DTYPE, TOL; SPLIT (optional):
# run llacheck --split-at SPLIT (two calls chained through the state).
file(REMOVE_RECURSE ${OUT})
set(split_args)
if(DEFINED SPLIT)
  set(split_args --split-at ${SPLIT})
endif()
execute_process(COMMAND ${LLACHECK} --case ${CASE} --out ${OUT} --dtype ${DTYPE} ${split_args} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "llacheck exited with ${rc}")
endif()
execute_process(COMMAND ${LLACOMPARE} --ref ${CASE} --out ${OUT} --tol ${TOL} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "llacompare exited with ${rc}: outputs differ from the golden case")
endif()
