# cmake -P: writes OUT_DIR/{moelab-cli.1.gz, moelab.1.gz, changelog.gz, moelab-cli.bash} from the
# built moelab-cli (CLI) and the packaging sources (SOURCE_DIR).
file(MAKE_DIRECTORY "${OUT_DIR}")
execute_process(COMMAND "${CLI}" --man OUTPUT_FILE "${OUT_DIR}/moelab-cli.1" RESULT_VARIABLE rc1)
execute_process(COMMAND "${CLI}" --bash-completion OUTPUT_FILE "${OUT_DIR}/moelab-cli.bash" RESULT_VARIABLE rc2)
if(NOT rc1 EQUAL 0 OR NOT rc2 EQUAL 0)
  message(FATAL_ERROR "moelab-cli --man / --bash-completion failed (${rc1}, ${rc2})")
endif()
foreach(pair "${OUT_DIR}/moelab-cli.1;moelab-cli.1.gz" "${SOURCE_DIR}/packaging/moelab.1;moelab.1.gz"
             "${SOURCE_DIR}/packaging/changelog;changelog.gz")
  list(GET pair 0 in)
  list(GET pair 1 out)
  execute_process(COMMAND gzip -9n -c INPUT_FILE "${in}" OUTPUT_FILE "${OUT_DIR}/${out}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "gzip ${in} failed")
  endif()
endforeach()
