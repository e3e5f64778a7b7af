// A file compiled into the binary (cmake/EmbedDirectory.cmake): its path relative to the
// embedded directory and its bytes, which live as long as the program.
#pragma once

#include <string_view>

namespace cartorio::core {

struct EmbeddedFile {
  std::string_view path;  // "index.html", "pages/verify.js"
  std::string_view bytes;
};

}  // namespace cartorio::core
