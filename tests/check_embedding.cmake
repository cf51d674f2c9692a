# Builds and runs the embedding example (see tests/CMakeLists.txt).
# Inputs: SOURCE_DIR, BINARY_DIR, CAF_RAFT_DIR, RAFT_WERROR.
foreach(step IN ITEMS configure build run)
  if(step STREQUAL "configure")
    set(cmd ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${BINARY_DIR}
            -DCAF_RAFT_DIR=${CAF_RAFT_DIR} -DRAFT_WERROR=${RAFT_WERROR})
  elseif(step STREQUAL "build")
    set(cmd ${CMAKE_COMMAND} --build ${BINARY_DIR} --parallel 2)
  else()
    set(cmd ${BINARY_DIR}/embedded-counter)
  endif()
  execute_process(COMMAND ${cmd} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "embedding: ${step} failed (${rc}):\n${out}")
  endif()
endforeach()
message("${out}")
message("embedding: OK")
