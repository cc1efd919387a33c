// Integration test: the site bundled in www/ (what `make run` serves) is complete: the index page
// and every local asset it links answer 200 with the right type.
#include <regex>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "integration/cork_process_support.h"
#include "integration/raw_client_support.h"

namespace cork::integration {
namespace {

TEST(BundledSiteTest, IndexAndEveryLinkedAssetAre200) {
  CorkProcess server;
  ASSERT_TRUE(server.start({"-r", CORK_SOURCE_DIR "/www"}));

  HttpResponse index;
  ASSERT_TRUE(fetch(server.port(), get_request("/"), index));
  ASSERT_EQ(index.status, 200);
  EXPECT_EQ(index.header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(index.body.find("<title>cork"), std::string::npos);

  // Every root-relative href/src of the page: the stylesheet, the script, the image, a download.
  static const std::regex kLink(R"re((?:href|src)="(/[^"]*)")re");
  std::set<std::string> links;
  for (auto it = std::sregex_iterator(index.body.begin(), index.body.end(), kLink);
       it != std::sregex_iterator(); ++it) {
    links.insert((*it)[1]);
  }
  const std::pair<const char*, const char*> expected[] = {
      {"/style.css", "text/css; charset=utf-8"},
      {"/app.js", "text/javascript; charset=utf-8"},
      {"/cork.svg", "image/svg+xml; charset=utf-8"},
  };
  for (const auto& [path, type] : expected) {
    EXPECT_TRUE(links.count(path)) << "index.html does not link " << path;
  }
  EXPECT_GE(links.size(), 4u) << "index.html should link a stylesheet, a script, an image and a "
                                 "download";
  for (const std::string& link : links) {
    SCOPED_TRACE(link);
    HttpResponse asset;
    ASSERT_TRUE(fetch(server.port(), get_request(link), asset));
    EXPECT_EQ(asset.status, 200);
    EXPECT_GT(asset.body.size(), 0u);
    for (const auto& [path, type] : expected) {
      if (link == path) {
        EXPECT_EQ(asset.header("content-type"), type);
      }
    }
  }
}

}  // namespace
}  // namespace cork::integration
