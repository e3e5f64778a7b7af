# The libFuzzer tree (CARTORIO_FUZZ=ON; `scripts/build.sh fuzz` -> build-fuzz/, docs/fuzzing.md).
# Included from Sanitizers.cmake, before any library is defined, so every project library
# is built with coverage instrumentation (fuzzer-no-link) and ASan + UBSan. The fuzz
# executables add -fsanitize=fuzzer at link time (fuzz/CMakeLists.txt), which brings
# libFuzzer and its main(). Third-party libraries (OpenSSL, SQLite) stay the system ones:
# uninstrumented, but ASan still sees every allocation they make through malloc.
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang" OR NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "CARTORIO_FUZZ needs clang (libFuzzer): configure with "
                      "-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ (scripts/build.sh fuzz does)")
endif()
if(CARTORIO_SANITIZE)
  message(FATAL_ERROR "CARTORIO_FUZZ already builds with ASan + UBSan: leave CARTORIO_SANITIZE off")
endif()

set(CARTORIO_FUZZ_SANITIZERS "address,undefined")
# -O1 -g whatever the build type: fast enough to fuzz, still exact stack traces; assertions
# stay on (use the Debug build type, as scripts/build.sh fuzz does, so NDEBUG is not set).
add_compile_options(-fsanitize=fuzzer-no-link,${CARTORIO_FUZZ_SANITIZERS} -fno-sanitize-recover=all
                    -fno-omit-frame-pointer -O1 -g
                    -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)
add_link_options(-fsanitize=${CARTORIO_FUZZ_SANITIZERS})

# cmake/Warnings.cmake passes GCC's -Wshadow=local, which clang does not know; with -Werror
# that is an error in every translation unit. Tolerate unknown warning options in this tree
# only (every warning clang does know stays an error).
add_compile_options(-Wno-unknown-warning-option)
