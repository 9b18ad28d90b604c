// The layering docs/architecture.md describes, checked on the sources: every file includes only
// headers of its own layer, of a layer before it, or of the leaves any layer may use.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>

namespace {

namespace fs = std::filesystem;

// In order: a layer may include those before it. `rules` is the rule language, a leaf: it stands
// first so that every layer that evaluates or reports rules may use it, and it may use nothing.
const std::map<std::string, int> kLayers = {
    {"rules", 0},   {"dump", 1},     {"arch", 2},     {"debuginfo", 3}, {"poison", 4},
    {"console", 5}, {"target", 6},   {"os", 7},       {"analysis", 8},  {"report", 9}, {"cli", 10},
};

// The layer of a path under src/ or include/coroner/: its first folder; "" for the leaves
// (format, result, address_kind) at the top.
std::string layer_of(const fs::path& relative) {
  auto it = relative.begin();
  if (std::next(it) == relative.end()) return "";
  return it->string();
}

struct Violation {
  std::string file, include;
};

std::vector<Violation> violations(const fs::path& root, const fs::path& under) {
  std::vector<Violation> out;
  static const std::regex kInclude(R"re(^\s*#\s*include\s+"coroner/([^"]+)")re");
  for (const auto& entry : fs::recursive_directory_iterator(root / under)) {
    if (!entry.is_regular_file()) continue;
    const std::string from = layer_of(fs::relative(entry.path(), root / under));
    if (from.empty()) continue;
    std::ifstream in(entry.path());
    std::string line;
    while (std::getline(in, line)) {
      std::smatch m;
      if (!std::regex_search(line, m, kInclude)) continue;
      const std::string to = layer_of(fs::path(m[1].str()));
      if (to.empty() || to == from) continue;
      auto f = kLayers.find(from), t = kLayers.find(to);
      bool allowed = f != kLayers.end() && t != kLayers.end() && t->second < f->second && from != "rules";
      if (!allowed) out.push_back({fs::relative(entry.path(), root).string(), m[1].str()});
    }
  }
  return out;
}

TEST(Layers, EveryFileIncludesOnlyTheLayersBeforeItsOwn) {
  const fs::path root = CORONER_SOURCE_DIR;
  size_t files = 0;
  for (const char* under : {"src", "include/coroner"}) {
    for (const auto& e : fs::recursive_directory_iterator(root / under)) files += e.is_regular_file();
    for (const Violation& v : violations(root, under)) {
      ADD_FAILURE() << v.file << " includes coroner/" << v.include << ", a layer its own may not use (docs/architecture.md)";
    }
  }
  EXPECT_GT(files, 100u) << "the sources were not found under " << root;
}

TEST(Layers, AFolderOfTheSourcesIsALayerTheTestKnows) {
  const fs::path root = CORONER_SOURCE_DIR;
  for (const auto& e : fs::directory_iterator(root / "src")) {
    if (!e.is_directory()) continue;
    EXPECT_TRUE(kLayers.contains(e.path().filename().string())) << e.path() << " is in no layer";
  }
}

}  // namespace
