# cmake -DDIR=dir -DOUT=file.cpp -DNAME=symbol -DNAMESPACE=ns -P EmbedDirectory.cmake
# Writes a .cpp defining `std::span<const cartorio::core::EmbeddedFile> ns::symbol()`: every
# file under DIR (relative path, bytes), so the web portal ships inside the binary.
file(GLOB_RECURSE files RELATIVE "${DIR}" "${DIR}/*")
list(SORT files)
set(arrays "")
set(entries "")
set(i 0)
foreach(rel IN LISTS files)
  file(READ "${DIR}/${rel}" hex HEX)
  string(LENGTH "${hex}" hex_len)
  math(EXPR size "${hex_len} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  # A trailing 0 keeps an empty file's array legal; `size` excludes it.
  string(APPEND arrays "const unsigned char f${i}[] = {${bytes}0};\n")
  string(APPEND entries "    {\"${rel}\", std::string_view(reinterpret_cast<const char*>(f${i}), ${size})},\n")
  math(EXPR i "${i} + 1")
endforeach()
file(WRITE "${OUT}.tmp" "// Generated from ${DIR} by cmake/EmbedDirectory.cmake; do not edit.
#include \"core/embedded_file.h\"
#include <span>
namespace ${NAMESPACE} {
namespace {
${arrays}
const cartorio::core::EmbeddedFile files[] = {
${entries}    {\"\", {}},
};
}  // namespace
std::span<const cartorio::core::EmbeddedFile> ${NAME}() { return {files, ${i}}; }
}  // namespace ${NAMESPACE}
")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
