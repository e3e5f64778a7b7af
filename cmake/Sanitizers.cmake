if(CARTORIO_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
endif()
# The libFuzzer tree (build-fuzz/): coverage instrumentation + ASan + UBSan on every library.
if(CARTORIO_FUZZ)
  include(${CMAKE_CURRENT_LIST_DIR}/Fuzzing.cmake)
endif()
