# Install fcnlab into WORK_DIR/prefix, then configure, build and run the
# consumer project against it.
file(REMOVE_RECURSE ${WORK_DIR})
execute_process(
  COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix
  RESULT_VARIABLE result)
if(result)
  message(FATAL_ERROR "install failed: ${result}")
endif()
execute_process(
  COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/build
    -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DTorch_DIR=${Torch_DIR}
  RESULT_VARIABLE result)
if(result)
  message(FATAL_ERROR "configuring the consumer failed: ${result}")
endif()
execute_process(
  COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/build
  RESULT_VARIABLE result)
if(result)
  message(FATAL_ERROR "building the consumer failed: ${result}")
endif()
execute_process(
  COMMAND ${WORK_DIR}/build/consumer
  OUTPUT_VARIABLE output
  RESULT_VARIABLE result)
message(STATUS "consumer: ${output}")
if(result OR NOT output MATCHES "scores 5x7x9 crop 18")
  message(FATAL_ERROR "the consumer program failed: ${result} ${output}")
endif()
