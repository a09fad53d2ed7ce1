# learners_doc.cmake - `cmake -DTT_BINARY=... -DTT_OUT=... -P learners_doc.cmake`:
# writes `tautune plugins --learners --markdown` to TT_OUT (a build step; a
# shell redirect would not be portable across generators).
get_filename_component(out_dir ${TT_OUT} DIRECTORY)
file(MAKE_DIRECTORY ${out_dir})
execute_process(COMMAND ${TT_BINARY} plugins --learners --markdown
                OUTPUT_FILE ${TT_OUT} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  file(REMOVE ${TT_OUT})
  message(FATAL_ERROR "${TT_BINARY} plugins --learners --markdown failed: ${rc}")
endif()
