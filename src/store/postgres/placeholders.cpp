#include "store/postgres/placeholders.h"

namespace cartorio::store::postgres {

std::string number_placeholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int next = 1;
  std::size_t i = 0;
  auto copy_until = [&](std::string_view end) {
    std::size_t stop = sql.find(end, i);
    stop = stop == std::string_view::npos ? sql.size() : stop + end.size();
    out.append(sql.substr(i, stop - i));
    i = stop;
  };
  while (i < sql.size()) {
    const char c = sql[i];
    if (c == '\'' || c == '"') {
      // A doubled quote inside is an escaped quote: it closes and reopens, same result.
      out.push_back(c);
      ++i;
      copy_until(std::string_view(&c, 1));
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      copy_until("\n");
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      out.append("/*");
      i += 2;
      copy_until("*/");
    } else if (c == '?') {
      out.push_back('$');
      out.append(std::to_string(next++));
      ++i;
    } else {
      out.push_back(c);
      ++i;
    }
  }
  return out;
}

}  // namespace cartorio::store::postgres
