# Warnings on, and kept clean, for the project's own targets.
function(isoqube_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic
                                           -Wno-unused-parameter)
endfunction()
