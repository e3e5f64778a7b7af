# Project code builds warning-free; third-party headers are included as SYSTEM.
add_library(cartorio_warnings INTERFACE)
target_compile_options(cartorio_warnings INTERFACE -Wall -Wextra -Werror -Wshadow=local
  -Wnon-virtual-dtor -Wcast-align -Wno-missing-field-initializers)
