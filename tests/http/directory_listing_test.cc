// Directory listings: order and hiding, escaping of hostile names into HTML, URLs and JSON,
// human sizes at the unit boundaries, and the Accept preference between HTML and JSON.
#include "http/directory_listing.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cork {
namespace {

constexpr std::time_t kNov1994 = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT

ListingEntry file(std::string name, std::uint64_t size = 0, std::time_t mtime = kNov1994) {
  return ListingEntry{std::move(name), false, size, mtime};
}

ListingEntry dir(std::string name, std::time_t mtime = kNov1994) {
  return ListingEntry{std::move(name), true, 0, mtime};
}

// Position of `needle` in `haystack`, failing the test when absent.
std::size_t position(const std::string& haystack, const std::string& needle) {
  const std::size_t at = haystack.find(needle);
  EXPECT_NE(at, std::string::npos) << "missing: " << needle << "\nin:\n" << haystack;
  return at;
}

// The number of table rows that link somewhere.
std::size_t link_count(const std::string& html) {
  std::size_t n = 0;
  for (std::size_t at = html.find("<a href="); at != std::string::npos;
       at = html.find("<a href=", at + 1)) {
    ++n;
  }
  return n;
}

TEST(HtmlEscape, EscapesTheFiveCharacters) {
  EXPECT_EQ(html_escape("a&b<c>d\"e'f"), "a&amp;b&lt;c&gt;d&quot;e&#39;f");
  EXPECT_EQ(html_escape(""), "");
  EXPECT_EQ(html_escape("plain text é"), "plain text é");
  EXPECT_EQ(html_escape("&amp;"), "&amp;amp;");
}

TEST(PercentEncodeSegment, KeepsOnlyUnreserved) {
  EXPECT_EQ(percent_encode_segment("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(percent_encode_segment("a b"), "a%20b");
  EXPECT_EQ(percent_encode_segment("<script>.txt"), "%3Cscript%3E.txt");
  EXPECT_EQ(percent_encode_segment("100%"), "100%25");
  EXPECT_EQ(percent_encode_segment("a#b?c"), "a%23b%3Fc");
  EXPECT_EQ(percent_encode_segment("a:b"), "a%3Ab");  // never read as a scheme
  EXPECT_EQ(percent_encode_segment("\"'&/+;="), "%22%27%26%2F%2B%3B%3D");
  EXPECT_EQ(percent_encode_segment("é"), "%C3%A9");
  EXPECT_EQ(percent_encode_segment(std::string("\x00\x7f\xff", 3)), "%00%7F%FF");
  EXPECT_EQ(percent_encode_segment(""), "");
}

TEST(HumanSize, Boundaries) {
  EXPECT_EQ(human_size(0), "0 B");
  EXPECT_EQ(human_size(1), "1 B");
  EXPECT_EQ(human_size(999), "999 B");
  EXPECT_EQ(human_size(1023), "1023 B");
  EXPECT_EQ(human_size(1024), "1.0 KiB");
  EXPECT_EQ(human_size(1536), "1.5 KiB");
  EXPECT_EQ(human_size(1075), "1.0 KiB");  // 1.0498
  EXPECT_EQ(human_size(1076), "1.1 KiB");  // 1.0508
  EXPECT_EQ(human_size(10 * 1024 - 1), "10.0 KiB");
  EXPECT_EQ(human_size(1048575), "1.0 MiB");  // not "1024.0 KiB"
  EXPECT_EQ(human_size(1048576), "1.0 MiB");
  EXPECT_EQ(human_size(1572864), "1.5 MiB");
  EXPECT_EQ(human_size(2ULL << 30), "2.0 GiB");
  EXPECT_EQ(human_size(1ULL << 40), "1.0 TiB");
  EXPECT_EQ(human_size(1ULL << 50), "1.0 PiB");
  EXPECT_EQ(human_size(1ULL << 60), "1.0 EiB");
  EXPECT_EQ(human_size(UINT64_MAX), "16.0 EiB");
}

TEST(RenderListingHtml, PageStructure) {
  const std::string html = render_listing_html("/docs/", {file("a.txt", 1536, 0)});
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  position(html, "<meta charset=\"utf-8\">");
  position(html, "<title>Index of /docs/</title>");
  position(html, "<h1>Index of /docs/</h1>");
  position(html,
           "<tr><td><a href=\"a.txt\">a.txt</a></td><td>1.5 KiB</td>"
           "<td>Thu, 01 Jan 1970 00:00:00 GMT</td></tr>");
  EXPECT_EQ(html.substr(html.size() - 8), "</html>\n");
}

TEST(RenderListingHtml, ParentLinkExceptAtTheRoot) {
  const std::string sub = render_listing_html("/docs/", {});
  position(sub, "<a href=\"../\">../</a>");
  EXPECT_EQ(link_count(sub), 1u);
  const std::string root = render_listing_html("/", {file("x")});
  EXPECT_EQ(root.find("../"), std::string::npos);
  EXPECT_EQ(link_count(root), 1u);
}

TEST(RenderListingHtml, DirectoriesFirstThenByName) {
  const std::string html = render_listing_html(
      "/", {file("b.txt"), dir("zeta"), file("A.txt"), dir("alpha"), file("a.txt"), dir("Beta")});
  const std::size_t beta = position(html, "href=\"Beta/\">Beta/</a>");
  const std::size_t alpha = position(html, "href=\"alpha/\">alpha/</a>");
  const std::size_t zeta = position(html, "href=\"zeta/\">zeta/</a>");
  const std::size_t upper_a = position(html, "href=\"A.txt\">A.txt</a>");
  const std::size_t lower_a = position(html, "href=\"a.txt\">a.txt</a>");
  const std::size_t b = position(html, "href=\"b.txt\">b.txt</a>");
  EXPECT_LT(beta, alpha);  // byte order: uppercase before lowercase
  EXPECT_LT(alpha, zeta);
  EXPECT_LT(zeta, upper_a);  // every directory before every file
  EXPECT_LT(upper_a, lower_a);
  EXPECT_LT(lower_a, b);
}

TEST(RenderListingHtml, ByteOrderPutsNonAsciiLast) {
  // std::string compares as unsigned char: 0xC3 (é) sorts after 'z'.
  const std::string html = render_listing_html("/", {file("\xC3\xA9"), file("z"), file("Z")});
  EXPECT_LT(position(html, ">Z</a>"), position(html, ">z</a>"));
  EXPECT_LT(position(html, ">z</a>"), position(html, ">\xC3\xA9</a>"));
}

TEST(RenderListingHtml, DotfilesAndInvalidNamesAreHidden) {
  const std::string html =
      render_listing_html("/d/", {file(".htaccess"), dir(".git"), dir("."), dir(".."), file(""),
                                  file("a/b"), file(std::string("a\0b", 3)), file("shown")});
  EXPECT_EQ(html.find("htaccess"), std::string::npos);
  EXPECT_EQ(html.find(".git"), std::string::npos);
  EXPECT_EQ(html.find("a%2Fb"), std::string::npos);
  EXPECT_EQ(html.find("a%00b"), std::string::npos);
  position(html, "href=\"shown\"");
  EXPECT_EQ(link_count(html), 2u);  // "../" and "shown"
  // Issue 11: names a GET of the link refuses with 400 are not linked (wget -r mirrors came out
  // incomplete): a backslash, control bytes, DEL, bytes that are not UTF-8.
  const std::string refused = render_listing_html(
      "/", {file("back\\slash"), file("tab\tname"), file("del\x7f"), file("bad\xC0\xAE"),
            file("cut\xE6\x97"), dir("dir\\x"), file("fine \xC3\xA9")});
  EXPECT_EQ(link_count(refused), 1u) << refused;
  position(refused, "href=\"fine%20%C3%A9\"");
  // A dot inside or at the end of a name is not hidden.
  position(render_listing_html("/", {file("a.")}), "href=\"a.\"");
}

TEST(RenderListingHtml, ScriptNameIsEscaped) {
  const std::string html = render_listing_html("/", {file("<script>.txt")});
  position(html, "<a href=\"%3Cscript%3E.txt\">&lt;script&gt;.txt</a>");
  EXPECT_EQ(html.find("<script>"), std::string::npos);
}

TEST(RenderListingHtml, HostileNamesAreEscaped) {
  const std::string html =
      render_listing_html("/", {file("a&b"), file("say \"hi\""), file("it's"), file("50% off"),
                                file("#frag"), file("q?x=1"), dir("x\"><img src=x onerror=1>")});
  position(html, "<a href=\"a%26b\">a&amp;b</a>");
  position(html, "<a href=\"say%20%22hi%22\">say &quot;hi&quot;</a>");
  position(html, "<a href=\"it%27s\">it&#39;s</a>");
  position(html, "<a href=\"50%25%20off\">50% off</a>");
  position(html, "<a href=\"%23frag\">#frag</a>");
  position(html, "<a href=\"q%3Fx%3D1\">q?x=1</a>");
  position(html,
           "<a href=\"x%22%3E%3Cimg%20src%3Dx%20onerror%3D1%3E/\">"
           "x&quot;&gt;&lt;img src=x onerror=1&gt;/</a>");
  EXPECT_EQ(html.find("<img"), std::string::npos);
}

TEST(RenderListingHtml, NonAsciiNames) {
  const std::string html =
      render_listing_html("/", {file("caf\xC3\xA9.txt"), file("\xE6\x97\xA5")});
  position(html, "<a href=\"caf%C3%A9.txt\">caf\xC3\xA9.txt</a>");
  position(html, "<a href=\"%E6%97%A5\">\xE6\x97\xA5</a>");
  // A name that is not UTF-8 is left out: cork answers 400 to a request for it.
  EXPECT_EQ(link_count(render_listing_html("/", {file("a\xFF")})), 0u);
}

TEST(RenderListingHtml, PathIsEscaped) {
  const std::string html = render_listing_html("/<b>&\"x\"/", {});
  position(html, "<title>Index of /&lt;b&gt;&amp;&quot;x&quot;/</title>");
  position(html, "<h1>Index of /&lt;b&gt;&amp;&quot;x&quot;/</h1>");
  EXPECT_EQ(html.find("<b>"), std::string::npos);
}

TEST(RenderListingHtml, SizesAndDates) {
  const std::string html =
      render_listing_html("/", {file("big", 1ULL << 40), file("empty", 0), dir("d")});
  position(html, ">big</a></td><td>1.0 TiB</td><td>Sun, 06 Nov 1994 08:49:37 GMT</td>");
  position(html, ">empty</a></td><td>0 B</td>");
  position(html, ">d/</a></td><td>-</td><td>Sun, 06 Nov 1994 08:49:37 GMT</td>");
}

TEST(RenderListingJson, ExactOutput) {
  EXPECT_EQ(render_listing_json("/docs/", {file("b.txt", 123, 0), file(".hidden"), dir("a")}),
            "{\"path\":\"/docs/\",\"entries\":["
            "{\"name\":\"a\",\"type\":\"directory\",\"mtime\":\"Sun, 06 Nov 1994 08:49:37 GMT\"},"
            "{\"name\":\"b.txt\",\"type\":\"file\",\"size\":123,"
            "\"mtime\":\"Thu, 01 Jan 1970 00:00:00 GMT\"}]}");
  EXPECT_EQ(render_listing_json("/", {}), "{\"path\":\"/\",\"entries\":[]}");
  EXPECT_EQ(render_listing_json("/", {file("max", UINT64_MAX, 0)}),
            "{\"path\":\"/\",\"entries\":[{\"name\":\"max\",\"type\":\"file\","
            "\"size\":18446744073709551615,\"mtime\":\"Thu, 01 Jan 1970 00:00:00 GMT\"}]}");
}

// `text` as a JSON listing writes its strings. Names a GET would refuse are never listed, so the
// escaping is seen through the "path" value, which goes through the same function.
std::string json_name(const std::string& text) {
  const std::string json = render_listing_json(text, {});
  const std::string prefix = "{\"path\":";
  const std::string suffix = ",\"entries\":[]}";
  EXPECT_EQ(json.substr(0, prefix.size()), prefix);
  if (json.size() < prefix.size() + suffix.size()) {
    ADD_FAILURE() << "path missing: " << json;
    return {};
  }
  EXPECT_EQ(json.substr(json.size() - suffix.size()), suffix);
  return json.substr(prefix.size(), json.size() - prefix.size() - suffix.size());
}

TEST(RenderListingJson, ListsOnlyServableNames) {
  const std::string json =
      render_listing_json("/", {file("ok.txt", 1, 0), file("back\\slash"), file("a\xFF"),
                                file("tab\there"), file("\x7f"), dir(".git")});
  EXPECT_EQ(json,
            "{\"path\":\"/\",\"entries\":[{\"name\":\"ok.txt\",\"type\":\"file\",\"size\":1,"
            "\"mtime\":\"Thu, 01 Jan 1970 00:00:00 GMT\"}]}");
}

TEST(RenderListingJson, Escaping) {
  EXPECT_EQ(json_name("say \"hi\""), "\"say \\\"hi\\\"\"");
  EXPECT_EQ(json_name("back\\slash"), "\"back\\\\slash\"");
  EXPECT_EQ(json_name("tab\tnl\ncr\r"), "\"tab\\u0009nl\\u000acr\\u000d\"");
  EXPECT_EQ(json_name("\x01\x1f\x7f"), "\"\\u0001\\u001f\\u007f\"");
  EXPECT_EQ(json_name("<script>&'"), "\"<script>&'\"");  // fine inside a JSON string
}

TEST(RenderListingJson, Utf8) {
  // Valid UTF-8 of every length passes through.
  EXPECT_EQ(json_name("caf\xC3\xA9 \xE6\x97\xA5 \xF0\x9F\x98\x80"),
            "\"caf\xC3\xA9 \xE6\x97\xA5 \xF0\x9F\x98\x80\"");
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(json_name("a\xFF"
                      "b"),
            "\"a" + fffd + "b\"");                                         // never valid
  EXPECT_EQ(json_name("a\x80"), "\"a" + fffd + "\"");                      // lone continuation
  EXPECT_EQ(json_name("\xC0\xAE"), "\"" + fffd + fffd + "\"");             // overlong '.'
  EXPECT_EQ(json_name("\xE0\x80\xAF"), "\"" + fffd + fffd + fffd + "\"");  // overlong
  EXPECT_EQ(json_name("\xED\xA0\x80"), "\"" + fffd + fffd + fffd + "\"");  // surrogate
  EXPECT_EQ(json_name("\xF4\x90\x80\x80"), "\"" + fffd + fffd + fffd + fffd + "\"");  // > U+10FFFF
  // A truncated sequence is one U+FFFD (its maximal subpart), then the rest continues.
  EXPECT_EQ(json_name("\xE6\x97x"), "\"" + fffd + "x\"");
  EXPECT_EQ(json_name("\xF0\x9F\x98"), "\"" + fffd + "\"");
  EXPECT_EQ(json_name("\xC3"), "\"" + fffd + "\"");
  // The path is escaped the same way.
  EXPECT_EQ(render_listing_json("/\"\xFF/", {}),
            "{\"path\":\"/\\\"" + fffd + "/\",\"entries\":[]}");
}

TEST(RenderListingJson, EveryByteGivesValidOutput) {
  for (int b = 1; b < 256; ++b) {
    if (b == '/' || b == '.') continue;
    const std::string name(1, static_cast<char>(b));
    const std::string value = json_name(name);
    for (const char c : value) {
      EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20) << b;
    }
    if (b >= 0x80) {
      EXPECT_EQ(value, "\"\xEF\xBF\xBD\"") << b;
    }
  }
}

TEST(PrefersJson, Cases) {
  EXPECT_TRUE(prefers_json("application/json"));
  EXPECT_FALSE(prefers_json("text/html,application/json;q=0.9"));
  EXPECT_TRUE(prefers_json("application/json, text/html;q=0.5"));
  EXPECT_FALSE(prefers_json("*/*"));
  EXPECT_FALSE(prefers_json(""));
  EXPECT_FALSE(prefers_json("text/html"));
  EXPECT_FALSE(prefers_json("application/json, text/html"));  // a tie goes to HTML
  EXPECT_FALSE(prefers_json("application/json;q=0"));
  EXPECT_TRUE(prefers_json("application/json;q=0.001"));
  EXPECT_TRUE(prefers_json("text/html;q=0, application/json;q=0.1"));
  // Browsers and curl get HTML.
  EXPECT_FALSE(
      prefers_json("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"));
  // axios and fetch-style API clients get JSON.
  EXPECT_TRUE(prefers_json("application/json, text/plain, */*"));
}

TEST(PrefersJson, ParametersCaseAndWhitespace) {
  EXPECT_TRUE(prefers_json("APPLICATION/JSON"));
  EXPECT_TRUE(prefers_json("Application/Json; charset=utf-8"));
  EXPECT_TRUE(prefers_json("application/json ; Q=0.8 , text/html ; q=0.7"));
  EXPECT_FALSE(prefers_json("application/json;charset=utf-8;q=0.5, TEXT/HTML"));
  EXPECT_TRUE(prefers_json("\tapplication/json\t"));
  // A quoted parameter may hold ',', ';' and (as a quoted-pair) '"' without splitting anything.
  EXPECT_TRUE(prefers_json("application/json;q=0.5;x=\"a, text/html, b\""));
  EXPECT_TRUE(prefers_json("application/json;x=\"a;q=0\";q=0.9, text/html;q=0.8"));
  EXPECT_TRUE(prefers_json("application/json;x=\"\\\";q=0\";q=0.9"));
}

TEST(PrefersJson, UnreadableWeightsAndGarbage) {
  EXPECT_FALSE(prefers_json("application/json;q=abc"));
  EXPECT_FALSE(prefers_json("application/json;q=1.5"));
  EXPECT_FALSE(prefers_json("application/json;q"));
  EXPECT_TRUE(prefers_json("text/html;q=2, application/json;q=0.1"));   // html unreadable: 0
  EXPECT_TRUE(prefers_json("application/json;q=0, application/json"));  // the higher q
  EXPECT_FALSE(prefers_json("application/jsonx, application/*"));
  EXPECT_FALSE(prefers_json(";;,,"));
  EXPECT_FALSE(prefers_json("\""));
  EXPECT_FALSE(prefers_json("\"\\"));
  EXPECT_TRUE(prefers_json(";;,, application/json"));
  for (int b = 0; b < 256; ++b) {
    const std::string byte(1, static_cast<char>(b));
    (void)prefers_json(byte);
    EXPECT_TRUE(prefers_json(byte + ",application/json") || b == '"') << b;
  }
}

}  // namespace
}  // namespace cork
