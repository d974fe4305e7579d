# Fails when docs/supported-ops.md differs from what the kernel registry generates, so the table
# can never drift from the code. Regenerate with: build/kiln ops --markdown > docs/supported-ops.md
execute_process(COMMAND ${KILN} ops --markdown OUTPUT_VARIABLE generated RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "kiln ops --markdown failed")
endif()
file(READ ${DOC} committed)
if(NOT generated STREQUAL committed)
  message(FATAL_ERROR "docs/supported-ops.md is stale; regenerate it with: build/kiln ops --markdown > docs/supported-ops.md")
endif()
