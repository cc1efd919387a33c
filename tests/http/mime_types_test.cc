// mime_type_for: the extension table, case-insensitivity, and which part of a path is the
// extension (only after the last '.' of the last segment, never a leading dot).
#include "http/mime_types.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include <string_view>
#include <vector>

namespace cork {
namespace {

constexpr std::string_view kOctetStream = "application/octet-stream";

struct Extension {
  std::string extension;
  std::string type;
};

// The types a static site needs; text types must carry the charset so that browsers do not
// guess (and so that a UTF-8 page is not read as windows-1252).
const std::vector<Extension> kExpected = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},  // RFC 9239
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json; charset=utf-8"},
    {"xml", "application/xml; charset=utf-8"},
    {"txt", "text/plain; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"md", "text/markdown; charset=utf-8"},
    {"svg", "image/svg+xml; charset=utf-8"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"avif", "image/avif"},
    {"ico", "image/x-icon"},
    {"wasm", "application/wasm"},  // browsers refuse streaming compilation of anything else
    {"pdf", "application/pdf"},
    {"zip", "application/zip"},
    {"gz", "application/gzip"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"ttf", "font/ttf"},
    {"mp3", "audio/mpeg"},
    {"mp4", "video/mp4"},
    {"webm", "video/webm"},
};

std::string upper(std::string s) {
  for (char& c : s)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

TEST(MimeTypeFor, EveryExtensionOfAStaticSite) {
  for (const Extension& e : kExpected) {
    SCOPED_TRACE("extension: " + e.extension);
    EXPECT_EQ(mime_type_for("/file." + e.extension), e.type);
    EXPECT_EQ(mime_type_for("file." + e.extension), e.type);  // a bare name works too
    EXPECT_EQ(mime_type_for("/a/b/c.d." + e.extension), e.type);
  }
}

TEST(MimeTypeFor, TextTypesCarryCharsetAndBinaryTypesDoNot) {
  for (const Extension& e : kExpected) {
    SCOPED_TRACE("extension: " + e.extension);
    const std::string_view type = mime_type_for("/f." + e.extension);
    const bool textual = type.starts_with("text/") || type.find("json") != type.npos ||
                         type.find("xml") != type.npos;
    EXPECT_EQ(type.ends_with("; charset=utf-8"), textual) << type;
  }
}

TEST(MimeTypeFor, ExtensionIsCaseInsensitive) {
  EXPECT_EQ(mime_type_for("/INDEX.HTML"), "text/html; charset=utf-8");
  EXPECT_EQ(mime_type_for("/Index.Html"), "text/html; charset=utf-8");
  EXPECT_EQ(mime_type_for("/photo.JpG"), "image/jpeg");
  EXPECT_EQ(mime_type_for("/FONT.WOFF2"), "font/woff2");
  for (const Extension& e : kExpected) {
    SCOPED_TRACE("extension: " + upper(e.extension));
    EXPECT_EQ(mime_type_for("/F." + upper(e.extension)), e.type);
  }
}

TEST(MimeTypeFor, UnknownOrMissingExtensionIsOctetStream) {
  EXPECT_EQ(mime_type_for("/file.unknownext"), kOctetStream);
  EXPECT_EQ(mime_type_for("/file.exe"), kOctetStream);
  EXPECT_EQ(mime_type_for("/file.htmlx"), kOctetStream);  // no prefix matching
  EXPECT_EQ(mime_type_for("/file.ht"), kOctetStream);
  EXPECT_EQ(mime_type_for("/file.h"), kOctetStream);
  EXPECT_EQ(mime_type_for("/file.a"), kOctetStream);     // sorts before every entry
  EXPECT_EQ(mime_type_for("/file.zzzz"), kOctetStream);  // sorts after every entry
  EXPECT_EQ(mime_type_for("/Makefile"), kOctetStream);
  EXPECT_EQ(mime_type_for("/README"), kOctetStream);
  EXPECT_EQ(mime_type_for("/file."), kOctetStream);  // a trailing dot is no extension
  EXPECT_EQ(mime_type_for("/"), kOctetStream);
  EXPECT_EQ(mime_type_for(""), kOctetStream);
  EXPECT_EQ(mime_type_for("/dir/"), kOctetStream);
  EXPECT_EQ(mime_type_for("/file. html"), kOctetStream);
  EXPECT_EQ(mime_type_for("/file.html "), kOctetStream);
  // Longer than any extension (the implementation lower-cases into a fixed buffer).
  EXPECT_EQ(mime_type_for("/file." + std::string(17, 'x')), kOctetStream);
  EXPECT_EQ(mime_type_for("/file." + std::string(10000, 'h')), kOctetStream);
  EXPECT_EQ(mime_type_for("/file.\xc3\xa9"), kOctetStream);
}

TEST(MimeTypeFor, OnlyTheLastSegmentCounts) {
  EXPECT_EQ(mime_type_for("/a.b/file"), kOctetStream);
  EXPECT_EQ(mime_type_for("/site.html/readme"), kOctetStream);
  EXPECT_EQ(mime_type_for("/a.png/"), kOctetStream);
  EXPECT_EQ(mime_type_for("/a.b/file.css"), "text/css; charset=utf-8");
}

TEST(MimeTypeFor, TheLastDotWins) {
  EXPECT_EQ(mime_type_for("/archive.tar.gz"), "application/gzip");
  EXPECT_EQ(mime_type_for("/page.html.gz"), "application/gzip");
  EXPECT_EQ(mime_type_for("/data.gz.json"), "application/json; charset=utf-8");
  EXPECT_EQ(mime_type_for("/a..png"), "image/png");
}

TEST(MimeTypeFor, DotfilesHaveNoExtension) {
  // A leading dot starts a name, it does not introduce an extension: ".html" is a file named
  // ".html", not an HTML file without a name.
  EXPECT_EQ(mime_type_for("/.html"), kOctetStream);
  EXPECT_EQ(mime_type_for("/dir/.css"), kOctetStream);
  EXPECT_EQ(mime_type_for(".png"), kOctetStream);
  EXPECT_EQ(mime_type_for("/.bashrc"), kOctetStream);
  EXPECT_EQ(mime_type_for("/.well-known/security.txt"), "text/plain; charset=utf-8");
  EXPECT_EQ(mime_type_for("/.config.json"), "application/json; charset=utf-8");
  EXPECT_EQ(mime_type_for("/.."), kOctetStream);
  EXPECT_EQ(mime_type_for("/..."), kOctetStream);
}

TEST(MimeTypeFor, ResultHasStaticStorage) {
  std::string path = "/index.html";
  const std::string_view type = mime_type_for(path);
  path.assign(path.size(), 'x');  // the result must not point into the argument
  EXPECT_EQ(type, "text/html; charset=utf-8");
  std::string unknown = "/noext";
  const std::string_view fallback = mime_type_for(unknown);
  unknown.assign(unknown.size(), 'y');
  EXPECT_EQ(fallback, kOctetStream);
}

}  // namespace
}  // namespace cork
