// Reader for the known-answer files in tests/data/*.vec (Botan's layout, simplified):
// `Name = value` lines, blocks separated by blank lines, `#` starts a comment line.
// Each block becomes one Vector; the test decides what the names mean.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#ifndef CARTORIO_TEST_DATA_DIR
#error "CARTORIO_TEST_DATA_DIR must name tests/data"
#endif

namespace cartorio::testing {

struct Vector {
  int line = 0;  // first line of the block, for failure messages
  std::map<std::string, std::string> fields;

  const std::string& at(const std::string& name) const {
    auto it = fields.find(name);
    if (it == fields.end()) throw std::runtime_error("vector at line " + std::to_string(line) + " lacks " + name);
    return it->second;
  }
  std::optional<std::string> get(const std::string& name) const {
    auto it = fields.find(name);
    if (it == fields.end()) return std::nullopt;
    return it->second;
  }
  std::vector<std::uint8_t> hex(const std::string& name) const {
    const std::string& h = at(name);
    std::vector<std::uint8_t> out;
    for (std::size_t i = 0; i + 1 < h.size(); i += 2) out.push_back(static_cast<std::uint8_t>(std::stoi(h.substr(i, 2), nullptr, 16)));
    return out;
  }
  std::uint64_t number(const std::string& name) const { return std::stoull(at(name)); }
};

inline std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

// Reads CARTORIO_TEST_DATA_DIR/<file>; an unreadable or empty file fails the calling test.
inline std::vector<Vector> read_vectors(const std::string& file) {
  const std::string path = std::string(CARTORIO_TEST_DATA_DIR) + "/" + file;
  std::ifstream in(path);
  std::vector<Vector> out;
  if (!in) {
    ADD_FAILURE() << "cannot open " << path;
    return out;
  }
  Vector cur;
  std::string line;
  int n = 0;
  auto flush = [&] {
    if (!cur.fields.empty()) out.push_back(cur);
    cur = Vector{};
  };
  while (std::getline(in, line)) {
    ++n;
    const std::string t = trim(line);
    if (t.empty()) {
      flush();
      continue;
    }
    if (t[0] == '#') continue;
    const auto eq = t.find('=');
    if (eq == std::string::npos) {
      ADD_FAILURE() << path << ":" << n << ": expected `Name = value`";
      continue;
    }
    if (cur.fields.empty()) cur.line = n;
    cur.fields[trim(t.substr(0, eq))] = trim(t.substr(eq + 1));
  }
  flush();
  if (out.empty()) ADD_FAILURE() << path << " holds no vectors";
  return out;
}

}  // namespace cartorio::testing
