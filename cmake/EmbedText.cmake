# cmake -DIN=file -DOUT=file.cpp -DNAME=symbol -DNAMESPACE=ns -P EmbedText.cmake
# Writes a .cpp defining `std::string_view ns::symbol()` with the file's text, so a document
# kept as a file in the tree (e.g. the OpenAPI description) is served from the binary.
file(READ "${IN}" content)
string(FIND "${content}" ")cartorio_embed\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${IN} contains the raw-string delimiter")
endif()
file(WRITE "${OUT}.tmp" "// Generated from ${IN} by cmake/EmbedText.cmake; do not edit.\n#include <string_view>\nnamespace ${NAMESPACE} {\nstd::string_view ${NAME}() {\n  static constexpr std::string_view text = R\"cartorio_embed(${content})cartorio_embed\";\n  return text;\n}\n}  // namespace ${NAMESPACE}\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
