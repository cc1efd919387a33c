// resolve_target: request-target -> normalized path. The security-relevant cases (percent-encoded
// dot segments, decoded slashes, NUL, backslash, overlong UTF-8) are rows of one table, so that a
// new bypass found later is one more line.
#include "http/target_path.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cork {
namespace {

struct Case {
  std::string target;
  int status;        // expected Target::status (0 = usable)
  std::string path;  // expected Target::path when status is 0
};

// Checks one row; on success also checks the invariants the header promises for every path.
void expect_case(const Case& c) {
  SCOPED_TRACE("target: \"" + c.target + "\"");
  const Target t = resolve_target(c.target);
  EXPECT_EQ(t.status, c.status);
  if (c.status != 0) return;
  EXPECT_EQ(t.path, c.path);
  ASSERT_FALSE(t.path.empty());
  EXPECT_EQ(t.path.front(), '/');
  EXPECT_EQ(t.path.find("//"), std::string::npos);
  EXPECT_EQ(t.path.find("/../"), std::string::npos);
  EXPECT_EQ(t.path.find("/./"), std::string::npos);
  EXPECT_EQ(t.path.find('\\'), std::string::npos);
  for (const char ch : t.path) {
    const auto u = static_cast<unsigned char>(ch);
    EXPECT_TRUE(u >= 0x20 && u != 0x7f) << "control byte " << static_cast<int>(u);
  }
}

void expect_table(const std::vector<Case>& cases) {
  for (const Case& c : cases)
    expect_case(c);
}

TEST(ResolveTarget, PlainPaths) {
  expect_table({
      {"/", 0, "/"},
      {"/index.html", 0, "/index.html"},
      {"/a/b/c.txt", 0, "/a/b/c.txt"},
      {"/a%20b.html", 0, "/a b.html"},
      {"/%41%42c", 0, "/ABc"},                              // upper-case hex digits
      {"/%c3%a9t%C3%A9.txt", 0, "/\xc3\xa9t\xc3\xa9.txt"},  // UTF-8, either hex case
      {"/\xc3\xa9", 0, "/\xc3\xa9"},                        // raw (unencoded) valid UTF-8 is kept
      {"/%f0%9f%98%80", 0, "/\xf0\x9f\x98\x80"},            // 4-byte UTF-8 (U+1F600)
      {"/a+b", 0, "/a+b"},                                  // '+' is not a space in a path
      {"/a;b=c", 0, "/a;b=c"},
      {"/...x", 404, ""},     // starts with '.', so private
      {"/x...", 0, "/x..."},  // dots elsewhere in a name are fine
      {"/a..b", 0, "/a..b"},
  });
}

TEST(ResolveTarget, DotSegmentsAreResolved) {
  expect_table({
      {"/.", 0, "/"},
      {"/./", 0, "/"},
      {"/a/./b", 0, "/a/b"},
      {"/a/b/../c", 0, "/a/c"},
      {"/a/b/../../c", 0, "/c"},
      {"/a/..", 0, "/"},
      {"/a/b/..", 0, "/a/"},   // a final ".." names a directory
      {"/a/b/.", 0, "/a/b/"},  // so does a final "."
      {"/a/%2e/b", 0, "/a/b"},
      {"/a/%2E%2E/b", 0, "/b"},
      {"/a/.%2e/b", 0, "/b"},
  });
}

TEST(ResolveTarget, ClimbingAboveTheRootIs400) {
  expect_table({
      {"/..", 400, ""},
      {"/../", 400, ""},
      {"/../etc/passwd", 400, ""},
      {"/a/../..", 400, ""},
      {"/a/../../etc/passwd", 400, ""},
      {"/./../x", 400, ""},
      {"/.%2e/etc/passwd", 400, ""},
      {"/%2e./etc/passwd", 400, ""},
      {"/%2e%2e/etc/passwd", 400, ""},
      {"/%2E%2E/etc/passwd", 400, ""},
      {"/a/%2e%2e/%2e%2e/etc/passwd", 400, ""},
      {"//../etc/passwd", 400, ""},
  });
}

TEST(ResolveTarget, DecodedSlashIsASeparatorAndNeverClimbs) {
  // The code decodes %2f to '/' before splitting into segments, so an encoded slash is a real
  // separator and an encoded "../" is a real dot segment: both are resolved, never climbed.
  expect_table({
      {"/a%2fb", 0, "/a/b"},
      {"/a%2Fb%2f", 0, "/a/b/"},
      {"/%2f", 0, "/"},
      {"/%2f%2fa", 0, "/a"},
      {"/%2e%2e%2f", 400, ""},
      {"/%2e%2e%2fetc%2fpasswd", 400, ""},
      {"/a/%2e%2e%2f%2e%2e%2fetc", 400, ""},
      {"/a%2f..%2f..%2fetc", 400, ""},
      {"/a/b%2f..%2fc", 0, "/a/c"},
      {"/a%2f%2e%2e", 0, "/"},
  });
}

TEST(ResolveTarget, PercentDecodingHappensExactlyOnce) {
  expect_table({
      {"/%252e%252e/x", 0, "/%2e%2e/x"},  // a literal "%2e%2e" name, not ".."
      {"/%252e%252e%252f", 0, "/%2e%2e%2f"},
      {"/%25", 0, "/%"},
      {"/%2541", 0, "/%41"},
      {"/%252fetc", 0, "/%2fetc"},
  });
}

TEST(ResolveTarget, MalformedPercentEncodingIs400) {
  expect_table({
      {"/%", 400, ""},
      {"/a%", 400, ""},
      {"/a%4", 400, ""},
      {"/%4g", 400, ""},
      {"/%g4", 400, ""},
      {"/%zz", 400, ""},
      {"/%%41", 400, ""},
      {"/% 41", 400, ""},
  });
}

TEST(ResolveTarget, NulControlBytesAndBackslashAre400) {
  expect_table({
      {"/%00", 400, ""},
      {"/index.html%00.txt", 400, ""},
      {std::string("/a\0b", 4), 400, ""},
      {"/%01", 400, ""},
      {"/%0a", 400, ""},
      {"/%0d%0aSet-Cookie:x", 400, ""},
      {"/%1f", 400, ""},
      {"/%7f", 400, ""},
      {"/a\tb", 400, ""},
      {"/a\x7f", 400, ""},
      {"/a\\b", 400, ""},
      {"/..\\..\\etc", 400, ""},
      {"/%5c", 400, ""},
      {"/%5C..%5Cetc", 400, ""},
      {"/%20", 0, "/ "},  // 0x20 is the first byte that is not a control byte
      {"/%7e", 0, "/~"},  // and 0x7e the last before DEL
  });
}

TEST(ResolveTarget, InvalidOrOverlongUtf8Is400) {
  expect_table({
      {"/%c0%ae", 400, ""},            // overlong '.'
      {"/%c0%ae%c0%ae/etc", 400, ""},  // overlong ".."
      {"/%c0%af", 400, ""},            // overlong '/'
      {"/%c1%9c", 400, ""},            // overlong '\\'
      {"/%e0%80%ae", 400, ""},         // 3-byte overlong '.'
      {"/%f0%80%80%ae", 400, ""},      // 4-byte overlong '.'
      {"/%80", 400, ""},               // lone continuation byte
      {"/%c3", 400, ""},               // truncated 2-byte sequence
      {"/%e2%82", 400, ""},            // truncated 3-byte sequence
      {"/%c3%28", 400, ""},            // second byte not a continuation
      {"/%ff", 400, ""},
      {"/%fe", 400, ""},
      {"/%f8%88%80%80%80", 400, ""},  // 5-byte form
      {"/%ed%a0%80", 400, ""},        // UTF-16 surrogate U+D800
      {"/%f4%90%80%80", 400, ""},     // above U+10FFFF
      {"/\xc0\xae", 400, ""},         // raw overlong bytes, not encoded
      {"/\xff", 400, ""},
      {"/%c2%80", 0, "/\xc2\x80"},                // U+0080, the smallest 2-byte form
      {"/%f4%8f%bf%bf", 0, "/\xf4\x8f\xbf\xbf"},  // U+10FFFF, the largest code point
      {"/%ef%bf%bf", 0, "/\xef\xbf\xbf"},
  });
}

TEST(ResolveTarget, SlashRunsAreMerged) {
  expect_table({
      {"//", 0, "/"},
      {"///", 0, "/"},
      {"//a", 0, "/a"},
      {"/a//b", 0, "/a/b"},
      {"/a///b//", 0, "/a/b/"},
      {"//a//..//b", 0, "/b"},
  });
}

TEST(ResolveTarget, TrailingSlashIsKept) {
  expect_table({
      {"/dir/", 0, "/dir/"},
      {"/a/b/", 0, "/a/b/"},
      {"/dir", 0, "/dir"},
      {"/dir/?x", 0, "/dir/"},
  });
}

TEST(ResolveTarget, DotfilesAndDotDirectoriesAre404) {
  expect_table({
      {"/.env", 404, ""},
      {"/.git/config", 404, ""},
      {"/.git/", 404, ""},
      {"/a/.htaccess", 404, ""},
      {"/a/.ssh/id_rsa", 404, ""},
      {"/%2egit/config", 404, ""},
      {"/a/%2Ehidden", 404, ""},
      {"/.well-known/x", 0, "/.well-known/x"},
      {"/.well-known/", 0, "/.well-known/"},
      {"/.well-known", 0, "/.well-known"},
      {"/%2ewell-known/acme-challenge/t", 0, "/.well-known/acme-challenge/t"},
      {"/a/../.well-known/x", 0, "/.well-known/x"},
      {"/a/.well-known/x", 404, ""},      // only as the first segment (RFC 8615)
      {"/.well-known/.secret", 404, ""},  // and it does not make what is below it public
      {"/.Well-Known/x", 404, ""},        // the exception is exact
      {"/a/.git/..", 0, "/a/"},           // resolved away before the dot check
  });
}

TEST(ResolveTarget, FragmentIs400) {
  expect_table({
      {"/#", 400, ""},
      {"/a#b", 400, ""},
      {"/a?q#f", 400, ""},
      {"http://h/a#f", 400, ""},
      {"/a%23b", 0, "/a#b"},  // an encoded '#' is an ordinary byte of a name
  });
}

TEST(ResolveTarget, AbsoluteFormIsAccepted) {
  expect_table({
      {"http://example.com/a/b", 0, "/a/b"},
      {"https://example.com/a", 0, "/a"},
      {"HTTP://example.com/a", 0, "/a"},
      {"HtTpS://example.com/a", 0, "/a"},
      {"http://example.com:8080/a%20b", 0, "/a b"},
      {"http://example.com", 0, "/"},
      {"http://example.com/", 0, "/"},
      {"http://example.com/../x", 400, ""},
      {"http://example.com/.env", 404, ""},
  });
}

TEST(ResolveTarget, OtherFormsAre400) {
  expect_table({
      {"", 400, ""},
      {"*", 400, ""},                // asterisk-form (OPTIONS *)
      {"example.com:443", 400, ""},  // authority-form (CONNECT)
      {"example.com/a", 400, ""},
      {"a/b", 400, ""},
      {"ftp://example.com/a", 400, ""},
      {"file:///etc/passwd", 400, ""},
      {"httpx://example.com/a", 400, ""},
      {"://example.com/a", 400, ""},
      {"http:/example.com/a", 400, ""},
      {"http:///a", 400, ""},  // absolute-form without an authority
      {"http://", 400, ""},
      {"?x", 400, ""},
  });
}

TEST(ResolveTarget, QueryIsStrippedAndKept) {
  Target t = resolve_target("/a/b.html?x=1&y=%20");
  EXPECT_EQ(t.status, 0);
  EXPECT_EQ(t.path, "/a/b.html");
  EXPECT_TRUE(t.has_query);
  EXPECT_EQ(t.query, "x=1&y=%20");  // the query is not decoded

  t = resolve_target("/a");
  EXPECT_EQ(t.path, "/a");
  EXPECT_FALSE(t.has_query);
  EXPECT_EQ(t.query, "");

  t = resolve_target("/a?");  // an empty query is still a query
  EXPECT_EQ(t.path, "/a");
  EXPECT_TRUE(t.has_query);
  EXPECT_EQ(t.query, "");

  t = resolve_target("/a?b?c/../..");  // only the first '?' starts the query
  EXPECT_EQ(t.status, 0);
  EXPECT_EQ(t.path, "/a");
  EXPECT_EQ(t.query, "b?c/../..");

  t = resolve_target("/a?%00");  // the query never reaches the file system
  EXPECT_EQ(t.status, 0);
  EXPECT_EQ(t.query, "%00");

  t = resolve_target("http://example.com/p?q=1");
  EXPECT_EQ(t.path, "/p");
  EXPECT_TRUE(t.has_query);
  EXPECT_EQ(t.query, "q=1");

  t = resolve_target("http://example.com?q=1");
  EXPECT_EQ(t.status, 0);
  EXPECT_EQ(t.path, "/");
  EXPECT_EQ(t.query, "q=1");

  t = resolve_target("/%3f?x");  // an encoded '?' belongs to the path
  EXPECT_EQ(t.path, "/?");
  EXPECT_EQ(t.query, "x");
}

// The Location of a directory redirect: built from the normalized path, so it names the same
// resource on this host whatever the wire spelling was.
TEST(EncodePath, KeepsPcharAndSlashesAndEncodesTheRest) {
  EXPECT_EQ(encode_path("/"), "/");
  EXPECT_EQ(encode_path("/evil.example"), "/evil.example");
  EXPECT_EQ(encode_path("/a b/c"), "/a%20b/c");
  EXPECT_EQ(encode_path("/q?x#y%z"), "/q%3Fx%23y%25z");
  EXPECT_EQ(encode_path("/\xc3\xa9t\xc3\xa9"), "/%C3%A9t%C3%A9");
  EXPECT_EQ(encode_path("/a\"b<c>\x7f"), "/a%22b%3Cc%3E%7F");
  EXPECT_EQ(encode_path("/-._~!$&'()*+,;=:@"), "/-._~!$&'()*+,;=:@");
}

TEST(EncodePath, ResolvedTargetsNeverStartWithTwoSlashes) {
  struct Redirect {
    std::string target;
    std::string location_path;
  };
  const std::vector<Redirect> cases = {
      {"//evil.example", "/evil.example"},
      {"///evil.example/", "/evil.example/"},
      {"//evil.example/../docs", "/docs"},
      {"/%2F%2Fevil.example", "/evil.example"},
      {"/.//evil.example", "/evil.example"},
      {"http://example.com//evil.example", "/evil.example"},
      {"/a%20b/", "/a%20b/"},
      {"/%3f?x", "/%3F"},
  };
  for (const Redirect& c : cases) {
    SCOPED_TRACE("target: \"" + c.target + "\"");
    const Target t = resolve_target(c.target);
    ASSERT_EQ(t.status, 0);
    EXPECT_EQ(encode_path(t.path), c.location_path);
  }
}

TEST(ResolveTarget, VeryLongPaths) {
  std::string deep;
  std::string expected;
  for (int i = 0; i < 10000; ++i) {
    deep += "/abc";
    expected += "/abc";
  }
  Target t = resolve_target(deep);
  EXPECT_EQ(t.status, 0);
  EXPECT_EQ(t.path, expected);

  // 10000 segments then 10000 ".." lands exactly on the root; one more climbs above it.
  std::string back = deep;
  for (int i = 0; i < 10000; ++i)
    back += "/..";
  t = resolve_target(back);
  EXPECT_EQ(t.status, 0);
  EXPECT_EQ(t.path, "/");
  t = resolve_target(back + "/..");
  EXPECT_EQ(t.status, 400);
  t = resolve_target(back + "/%2e%2e/etc/passwd");
  EXPECT_EQ(t.status, 400);

  const std::string long_name = "/" + std::string(100000, 'x') + ".html";
  t = resolve_target(long_name);
  EXPECT_EQ(t.status, 0);
  EXPECT_EQ(t.path, long_name);

  std::string slashes(100000, '/');
  t = resolve_target(slashes + "a" + slashes);
  EXPECT_EQ(t.status, 0);
  EXPECT_EQ(t.path, "/a/");

  std::string encoded;
  for (int i = 0; i < 10000; ++i)
    encoded += "%61";
  t = resolve_target("/" + encoded);
  EXPECT_EQ(t.status, 0);
  EXPECT_EQ(t.path, "/" + std::string(10000, 'a'));
}

// The listing's rule and the request rule agree: a name is servable exactly when a request for
// its percent-encoded form resolves (status 0) to that one segment.
TEST(IsServableName, AgreesWithResolveTargetOnEveryByteAndSomeSequences) {
  auto encoded = [](std::string_view name) {
    std::string out = "/";
    for (const unsigned char c : name) {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
    return out;
  };
  std::vector<std::string> names;
  for (int b = 1; b < 256; ++b) {
    names.push_back(std::string(1, static_cast<char>(b)));
    names.push_back("a" + std::string(1, static_cast<char>(b)) + "z");
  }
  for (const char* multi : {"caf\xC3\xA9", "\xE6\x97\xA5", "\xF0\x9F\x98\x80", "\xC0\xAE",
                            "\xED\xA0\x80", "\xE6\x97", "..", "a\\b"}) {
    names.push_back(multi);
  }
  for (const std::string& name : names) {
    if (name == "/" || name == "a/z") continue;  // not one segment
    const Target t = resolve_target(encoded(name));
    const bool resolves = t.status == 0 && t.path == "/" + name;
    EXPECT_EQ(is_servable_name(name), resolves) << "name " << testing::PrintToString(name);
  }
  EXPECT_FALSE(is_servable_name(""));
  EXPECT_FALSE(is_servable_name("a/b"));
  // The one name served but not listed: RFC 8615's directory, served as a first segment only.
  EXPECT_FALSE(is_servable_name(".well-known"));
}

}  // namespace
}  // namespace cork
