// A folder of its own for each test, removed afterwards (kept with LOOKOUT_KEEP_TEST_DIRS set,
// to look at what a failed test left). Shared by the unit and the integration tests.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace lookout::test {

class TempDir {
 public:
  TempDir() {
    // mkdtemp replaces the trailing Xs with a unique name.
    std::string tmpl = (std::filesystem::temp_directory_path() / "lookout-test-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (std::getenv("LOOKOUT_KEEP_TEST_DIRS") == nullptr) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream out(file(name), std::ios::binary | std::ios::trunc);
    out << text;
  }

 private:
  std::string path_;
};

}  // namespace lookout::test
