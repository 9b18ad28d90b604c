#pragma once
// Where scripts/prepare-real-tests.sh left the real dumps and crash's answers, and reading them.
#include <fstream>
#include <sstream>
#include <string>

namespace coroner::testing {

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string dumps_dir() {
  std::string dir = slurp(CORONER_REAL_DUMPS_FILE);
  while (!dir.empty() && dir.back() == '\n') dir.pop_back();
  return dir;
}

}  // namespace coroner::testing
