// Shared pieces of the server/ unit tests.
#include "server/server_test_support.h"

#include <netinet/in.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace cork::testing {

TempRoot::TempRoot() {
  char tmpl[] = "/tmp/cork-unit-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) ADD_FAILURE() << "mkdtemp failed";
  path_ = tmpl;
}

TempRoot::~TempRoot() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

void TempRoot::write(std::string_view relative, std::string_view content) const {
  const std::filesystem::path file = std::filesystem::path(path_) / relative;
  std::filesystem::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
}

std::shared_ptr<const Settings> settings_for(const TempRoot& root, Config config) {
  config.root = root.path();
  std::string error;
  std::shared_ptr<const Settings> settings = make_settings(config, error);
  EXPECT_TRUE(settings) << error;
  return settings;
}

sockaddr_storage loopback_peer() {
  sockaddr_storage peer{};
  auto& in = reinterpret_cast<sockaddr_in&>(peer);
  in.sin_family = AF_INET;
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return peer;
}

}  // namespace cork::testing
