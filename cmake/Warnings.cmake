# Project code builds warning-free; third-party headers are included as SYSTEM.
add_library(cartorio_warnings INTERFACE)
target_compile_options(cartorio_warnings INTERFACE -Wall -Wextra -Werror
  -Wnon-virtual-dtor -Wcast-align -Wno-missing-field-initializers)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(cartorio_warnings INTERFACE -Wshadow=local)  # clang has no =local form
endif()
# GCC 12 reports -Wrestrict false positives inside libstdc++'s std::string at -O2
# (GCC bug 105329); the diagnostic is noise there, so it is disabled for that compiler only.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(cartorio_warnings INTERFACE -Wno-restrict)
endif()
