// RequestParser: incremental parsing (every split position), pipelining, body discarding,
// limits and the strictness added on top of llhttp 8.1.
#include "http/request_parser.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace cork {
namespace {

using Event = RequestParser::Event;

// What a run of the parser produced: one entry per request head, and the final status.
struct Outcome {
  std::vector<std::string> targets;  // target of each completed head
  std::vector<bool> keep_alive;
  int messages = 0;
  int error = 0;
  bool operator==(const Outcome&) const = default;
};

// Feeds `input` in pieces cut at `cuts` (ascending offsets), like reads from a socket would.
Outcome run(const std::string& input, const std::vector<std::size_t>& cuts = {},
            ParserLimits limits = {}) {
  RequestParser parser(limits);
  Outcome out;
  std::size_t start = 0;
  std::vector<std::size_t> ends = cuts;
  ends.push_back(input.size());
  for (std::size_t end : ends) {
    std::string_view piece(input.data() + start, end - start);
    start = end;
    while (true) {
      auto r = parser.feed(piece);
      piece.remove_prefix(r.consumed);
      if (r.event == Event::kNeedMore) break;
      if (r.event == Event::kError) {
        out.error = parser.error_status();
        return out;
      }
      if (r.event == Event::kHeadComplete) {
        out.targets.push_back(parser.head().target);
        out.keep_alive.push_back(parser.head().keep_alive);
      }
      if (r.event == Event::kMessageComplete) ++out.messages;
    }
  }
  return out;
}

// `input` with CR and LF written as \\r and \\n, for failure messages.
std::string printable_for_trace(const std::string& input) {
  std::string out;
  for (char c : input) {
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

int status_of(const std::string& input, ParserLimits limits = {}) {
  return run(input, {}, limits).error;
}

const std::string kSimple =
    "GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: test\r\n"
    "Accept: */*\r\n\r\n";

TEST(RequestParser, ParsesASimpleRequest) {
  RequestParser parser({});
  auto r = parser.feed(kSimple);
  ASSERT_EQ(r.event, Event::kHeadComplete);
  EXPECT_EQ(r.consumed, kSimple.size());
  const RequestHead& h = parser.head();
  EXPECT_EQ(h.method, Method::kGet);
  EXPECT_EQ(h.method_name, "GET");
  EXPECT_EQ(h.target, "/index.html?x=1");
  EXPECT_EQ(h.version_major, 1);
  EXPECT_EQ(h.version_minor, 1);
  EXPECT_TRUE(h.keep_alive);
  EXPECT_EQ(h.header("host"), "example.com");
  EXPECT_EQ(h.header("USER-AGENT"), "test");
  EXPECT_FALSE(h.header("referer").has_value());
  EXPECT_EQ(h.field_count(), 3u);
  r = parser.feed({});
  EXPECT_EQ(r.event, Event::kMessageComplete);
  EXPECT_EQ(r.consumed, 0u);
  EXPECT_TRUE(parser.idle() || !parser.in_body());
}

TEST(RequestParser, SameResultWhenSplitAtEveryBytePosition) {
  const Outcome whole = run(kSimple);
  ASSERT_EQ(whole.messages, 1);
  for (std::size_t cut = 1; cut < kSimple.size(); ++cut) {
    EXPECT_EQ(run(kSimple, {cut}), whole) << "split at " << cut;
  }
}

TEST(RequestParser, SameResultFedOneByteAtATime) {
  const std::string input = kSimple + "HEAD /b HTTP/1.1\r\nHost: h\r\n\r\n";
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < input.size(); ++i)
    cuts.push_back(i);
  const Outcome bytewise = run(input, cuts);
  EXPECT_EQ(bytewise, run(input));
  EXPECT_EQ(bytewise.messages, 2);
  EXPECT_EQ(bytewise.targets, (std::vector<std::string>{"/index.html?x=1", "/b"}));
}

TEST(RequestParser, AnswersPipelinedRequestsOneAtATime) {
  std::string input;
  for (int i = 0; i < 20; ++i)
    input += "GET /" + std::to_string(i) + " HTTP/1.1\r\nHost: h\r\n\r\n";
  const Outcome out = run(input);
  EXPECT_EQ(out.error, 0);
  EXPECT_EQ(out.messages, 20);
  ASSERT_EQ(out.targets.size(), 20u);
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(out.targets[i], "/" + std::to_string(i));
}

TEST(RequestParser, DiscardsAContentLengthBodyBeforeTheNextRequest) {
  const std::string input =
      "GET /a HTTP/1.1\r\nHost: h\r\nContent-Length: 17\r\n\r\nGET /x HTTP/1.1\r\n"
      "GET /b HTTP/1.1\r\nHost: h\r\n\r\n";
  const Outcome whole = run(input);
  EXPECT_EQ(whole.error, 0);
  EXPECT_EQ(whole.targets, (std::vector<std::string>{"/a", "/b"}));
  for (std::size_t cut = 1; cut < input.size(); ++cut)
    EXPECT_EQ(run(input, {cut}), whole);
}

TEST(RequestParser, DiscardsAChunkedBodyBeforeTheNextRequest) {
  const std::string input =
      "GET /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n0\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n";
  const Outcome whole = run(input);
  EXPECT_EQ(whole.error, 0);
  EXPECT_EQ(whole.messages, 2);
  EXPECT_EQ(whole.targets, (std::vector<std::string>{"/a", "/b"}));
  for (std::size_t cut = 1; cut < input.size(); ++cut)
    EXPECT_EQ(run(input, {cut}), whole);
}

TEST(RequestParser, KeepAliveFollowsVersionAndConnection) {
  EXPECT_EQ(run("GET / HTTP/1.1\r\nHost: h\r\n\r\n").keep_alive, std::vector<bool>{true});
  EXPECT_EQ(run("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").keep_alive,
            std::vector<bool>{false});
  EXPECT_EQ(run("GET / HTTP/1.0\r\n\r\n").keep_alive, std::vector<bool>{false});
  EXPECT_EQ(run("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keep_alive,
            std::vector<bool>{true});
}

TEST(RequestParser, KnownMethodsOtherThanGetAndHead) {
  RequestParser parser({});
  auto r = parser.feed("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi");
  ASSERT_EQ(r.event, Event::kHeadComplete);
  EXPECT_EQ(parser.head().method, Method::kOtherKnown);
  EXPECT_EQ(parser.head().method_name, "POST");
  EXPECT_TRUE(parser.in_body());
  EXPECT_EQ(parser.feed("hi").event, Event::kMessageComplete);
}

TEST(RequestParser, HostRules) {
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\n\r\n"), 400);                        // missing
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400);  // duplicated
  EXPECT_EQ(status_of("GET / HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n"), 400);
  EXPECT_EQ(status_of("GET / HTTP/1.0\r\n\r\n"), 0);  // HTTP/1.0 may omit it
}

TEST(RequestParser, RejectsWhatLlhttpAccepts) {
  // obs-fold (RFC 9112 5.2), whitespace before the colon (5.1), versions other than 1.0/1.1.
  const std::string fold = "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n b\r\n\r\n";
  EXPECT_EQ(status_of(fold), 400);
  for (std::size_t cut = 1; cut < fold.size(); ++cut)
    EXPECT_EQ(run(fold, {cut}).error, 400);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost : h\r\n\r\n"), 400);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost\t: h\r\n\r\n"), 400);
  EXPECT_EQ(status_of("GET / HTTP/2.0\r\nHost: h\r\n\r\n"), 505);
  EXPECT_EQ(status_of("GET / HTTP/0.9\r\nHost: h\r\n\r\n"), 505);
  EXPECT_EQ(status_of("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 505);
  EXPECT_EQ(status_of("GET / HTTP/3.0\r\nHost: h\r\n\r\n"), 505);
  EXPECT_EQ(status_of("GET / HTTP/a.b\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(status_of("GET / HTTX/1.1\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(status_of("GET /\r\n\r\n"), 400);  // no version (HTTP/0.9 style)
}

TEST(RequestParser, ValueSplitInsideIsNotMistakenForObsFold) {
  const std::string input = "GET / HTTP/1.1\r\nHost: h\r\nX-A: a b c\r\n\r\n";
  for (std::size_t cut = 1; cut < input.size(); ++cut) {
    const Outcome out = run(input, {cut});
    EXPECT_EQ(out.error, 0) << "split at " << cut;
    EXPECT_EQ(out.messages, 1);
  }
}

TEST(RequestParser, UnknownMethodIs501AndJunkIs400) {
  EXPECT_EQ(status_of("FOO / HTTP/1.1\r\nHost: h\r\n\r\n"), 501);
  EXPECT_EQ(status_of("BREW /pot HTTP/1.1\r\nHost: h\r\n\r\n"), 501);
  EXPECT_EQ(status_of(std::string("\x16\x03\x01\x02\x00", 5)), 400);
  EXPECT_EQ(status_of("{}\r\n\r\n"), 400);
  EXPECT_EQ(status_of("HELLO\r\n\r\n"), 400);  // a token but no SP: not a request line
  EXPECT_EQ(status_of("GETX\r\n\r\n"), 400);
  EXPECT_EQ(status_of("HEL\x01 / HTTP/1.1\r\n\r\n"), 400);
}

// Whether an unknown first word is a method (501) or junk (400) depends on bytes after the one
// llhttp rejects, so the answer must not change with where the reads split the line.
TEST(RequestParser, UnknownMethodDecisionDoesNotDependOnSplits) {
  const std::pair<std::string, int> cases[] = {
      {"HELLO\r\n\r\n", 400},
      {"BREW /pot HTTP/1.1\r\nHost: h\r\n\r\n", 501},
      {"HELLOWORLD / HTTP/1.1\r\nHost: h\r\n\r\n", 501},
      {"HEL LO\r\n\r\n", 501},
  };
  for (const auto& [input, status] : cases) {
    for (std::size_t cut = 1; cut < input.size(); ++cut) {
      SCOPED_TRACE(input + " cut at " + std::to_string(cut));
      EXPECT_EQ(run(input, {cut}).error, status);
    }
    std::vector<std::size_t> every;
    for (std::size_t i = 1; i < input.size(); ++i)
      every.push_back(i);
    EXPECT_EQ(run(input, every).error, status) << input << " fed byte by byte";
  }
}

// RFC 9112 3: one SP between method, target and version; llhttp 8.1 accepts runs of spaces.
TEST(RequestParser, RunsOfSpacesInTheRequestLineAre400AtEverySplit) {
  for (const std::string input :
       {"GET  / HTTP/1.1\r\nHost: h\r\n\r\n", "GET /  HTTP/1.1\r\nHost: h\r\n\r\n"}) {
    for (std::size_t cut = 1; cut < input.size(); ++cut) {
      SCOPED_TRACE(input + " cut at " + std::to_string(cut));
      EXPECT_EQ(run(input, {cut}).error, 400);
    }
  }
  // Empty lines before the request line are still ignored (RFC 9112 2.2), and a pipelined
  // second request is checked on its own.
  const Outcome ok =
      run("\r\nGET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(ok.error, 0);
  EXPECT_EQ(ok.messages, 2);
  EXPECT_EQ(run("GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET  /b HTTP/1.1\r\nHost: h\r\n\r\n").error,
            400);
}

TEST(RequestParser, HasBodyAfterTheHead) {
  RequestParser parser({});
  auto r = parser.feed("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc");
  ASSERT_EQ(r.event, Event::kHeadComplete);
  EXPECT_TRUE(parser.has_body());
  RequestParser chunked({});
  r = chunked.feed("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
  ASSERT_EQ(r.event, Event::kHeadComplete);
  EXPECT_TRUE(chunked.has_body());
  RequestParser none({});
  r = none.feed("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(r.event, Event::kHeadComplete);
  EXPECT_FALSE(none.has_body());
}

// What the connection measures against max_discard_body, read at each head.
struct BodySeen {
  std::string target;
  std::uint64_t content_length;
  bool chunked;
  bool operator==(const BodySeen&) const = default;
};

std::vector<BodySeen> bodies_seen(std::string_view input, std::size_t cut) {
  RequestParser parser({});
  std::vector<BodySeen> seen;
  for (std::string_view piece : {input.substr(0, cut), input.substr(cut)}) {
    for (;;) {
      const auto r = parser.feed(piece);
      piece.remove_prefix(r.consumed);
      if (r.event == Event::kError) return {{"error", 0, false}};
      if (r.event == Event::kNeedMore) break;
      if (r.event == Event::kHeadComplete) {
        seen.push_back({parser.head().target, parser.content_length(), parser.chunked()});
      }
    }
  }
  return seen;
}

// The announced length or chunked, each request's own whatever the splits: nothing is left
// over from the request before.
TEST(RequestParser, BodyLengthAndCodingAfterEachHeadAtEverySplit) {
  const struct {
    std::string input;
    std::vector<BodySeen> expected;
  } cases[] = {
      {"GET /a HTTP/1.1\r\nHost: h\r\nContent-Length: 1000000000000\r\n\r\n",
       {{"/a", 1'000'000'000'000, false}}},
      {"GET /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
       "GET /c HTTP/1.1\r\nHost: h\r\n\r\n",
       {{"/b", 0, true}, {"/c", 0, false}}},
      {"GET /d HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
       "GET /e HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
       {{"/d", 5, false}, {"/e", 0, false}}},
  };
  for (const auto& c : cases) {
    for (std::size_t cut = 0; cut <= c.input.size(); ++cut) {
      EXPECT_EQ(bodies_seen(c.input, cut), c.expected)
          << printable_for_trace(c.input) << " split at " << cut;
    }
  }
}

TEST(RequestParser, OverlongUnknownMethodIs400) {
  ParserLimits limits;
  limits.max_request_line = 64;
  EXPECT_EQ(status_of(std::string(200, 'X'), limits), 400);
}

TEST(RequestParser, FramingErrors) {
  EXPECT_EQ(
      status_of("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
      400);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
            400);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n"), 400);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: abc\r\n\r\n"), 400);
  EXPECT_EQ(
      status_of("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n"),
      400);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n"), 501);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
            501);
  EXPECT_EQ(status_of("GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), 400);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
            400);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHo\x01st: h\r\n\r\n"), 400);
  EXPECT_EQ(status_of(std::string("GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n", 29)), 400);
}

TEST(RequestParser, RequestLineLimitGives414) {
  ParserLimits limits;
  limits.max_request_line = 100;
  const std::string ok = "GET /" + std::string(60, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::string too_long = "GET /" + std::string(100, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n";
  EXPECT_EQ(status_of(ok, limits), 0);
  EXPECT_EQ(status_of(too_long, limits), 414);
  // Detected before the line ends, even one byte at a time.
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < 110; ++i)
    cuts.push_back(i);
  EXPECT_EQ(run(too_long.substr(0, 110), cuts, limits).error, 414);
}

TEST(RequestParser, HeadLimitsGive431) {
  ParserLimits limits;
  limits.max_header_bytes = 512;
  limits.max_headers = 5;
  std::string many = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (int i = 0; i < 5; ++i)
    many += "X-" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(status_of(many + "\r\n", limits), 431);  // 6 fields > 5
  std::string five = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (int i = 0; i < 4; ++i)
    five += "X-" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(status_of(five + "\r\n", limits), 0);
  const std::string big =
      "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(600, 'v') + "\r\n\r\n";
  EXPECT_EQ(status_of(big, limits), 431);
  // An endless head is cut off once it passes the limit, without waiting for its end.
  EXPECT_EQ(status_of(big.substr(0, 560), limits), 431);
}

TEST(RequestParser, StaysFailedAfterAnError) {
  RequestParser parser({});
  EXPECT_EQ(parser.feed("GET / HTTP/2.0\r\n").event, Event::kError);
  EXPECT_EQ(parser.error_status(), 505);
  EXPECT_EQ(parser.feed("GET / HTTP/1.1\r\nHost: h\r\n\r\n").event, Event::kError);
}

}  // namespace
}  // namespace cork

namespace cork {
namespace {

// Regression: an empty field value followed by another field was taken for obs-fold (400).
TEST(RequestParser, EmptyFieldValuesAreNotFoldsAtAnySplit) {
  for (const std::string input : {"GET / HTTP/1.1\r\nHost: h\r\nX-Empty:\r\nA: b\r\n\r\n",
                                  "GET / HTTP/1.1\r\nHost: h\r\nX-Empty: \r\nA: b\r\n\r\n",
                                  "GET / HTTP/1.1\r\nX-Empty:\r\nHost: h\r\n\r\n"}) {
    for (std::size_t cut = 1; cut < input.size(); ++cut) {
      SCOPED_TRACE(input + " cut at " + std::to_string(cut));
      const Outcome out = run(input, {cut});
      EXPECT_EQ(out.error, 0);
      EXPECT_EQ(out.messages, 1);
    }
  }
  // Real folds are still refused, whitespace-only continuation lines included.
  for (const std::string input : {"GET / HTTP/1.1\r\nHost: h\r\nX: one\r\n two\r\n\r\n",
                                  "GET / HTTP/1.1\r\nHost: h\r\nX: one\r\n\ttwo\r\n\r\n",
                                  "GET / HTTP/1.1\r\nHost: h\r\nX:\r\n two\r\n\r\n"}) {
    for (std::size_t cut = 1; cut < input.size(); ++cut) {
      SCOPED_TRACE(input + " cut at " + std::to_string(cut));
      EXPECT_EQ(run(input, {cut}).error, 400);
    }
  }
}

TEST(RequestHeadCombined, JoinsRepeatedFieldsAndTellsAbsentFromEmpty) {
  RequestParser parser({});
  auto r =
      parser.feed("GET / HTTP/1.1\r\nHost: h\r\nAccept: a\r\nX-Empty:\r\nACCEPT: b, c\r\n\r\n");
  ASSERT_EQ(r.event, RequestParser::Event::kHeadComplete);
  EXPECT_EQ(parser.head().combined("accept"), "a, b, c");
  EXPECT_EQ(parser.head().combined("x-empty"), "");
  EXPECT_FALSE(parser.head().combined("range").has_value());
}

// The outcome of `input` whole, then split in two at every position and fed one byte at a
// time: all must agree (the parser's answer must not depend on how reads split the bytes).
Outcome run_at_every_split(const std::string& input) {
  const Outcome whole = run(input);
  for (std::size_t cut = 1; cut < input.size(); ++cut) {
    EXPECT_EQ(run(input, {cut}), whole) << printable_for_trace(input) << " split at " << cut;
  }
  std::vector<std::size_t> every;
  for (std::size_t i = 1; i < input.size(); ++i)
    every.push_back(i);
  EXPECT_EQ(run(input, every), whole) << printable_for_trace(input) << " fed byte by byte";
  return whole;
}

// RFC 9110 2.5: a request with a higher minor version than cork's (HTTP/1.2, HTTP/1.9) is
// processed as HTTP/1.1: keep-alive by default, Host required.
TEST(RequestParserVersion, Http1MinorAbove1IsProcessedAsHttp11AtEverySplit) {
  for (const std::string version : {"HTTP/1.2", "HTTP/1.9"}) {
    SCOPED_TRACE(version);
    const std::string input = "GET /a " + version + "\r\nHost: h\r\n\r\nGET /b " + version +
                              "\r\nHost: h\r\nConnection: close\r\n\r\n";
    const Outcome out = run_at_every_split(input);
    EXPECT_EQ(out.error, 0);
    EXPECT_EQ(out.messages, 2);
    EXPECT_EQ(out.targets, (std::vector<std::string>{"/a", "/b"}));
    EXPECT_EQ(out.keep_alive, (std::vector<bool>{true, false}));
    EXPECT_EQ(run_at_every_split("GET / " + version + "\r\n\r\n").error, 400);  // no Host
  }
  RequestParser parser({});
  ASSERT_EQ(parser.feed("GET / HTTP/1.2\r\nHost: h\r\n\r\n").event, Event::kHeadComplete);
  EXPECT_EQ(parser.head().version_major, 1);
  EXPECT_EQ(parser.head().version_minor, 1);  // processed as HTTP/1.1
}

TEST(RequestParserVersion, OtherMajorVersionsStay505AtEverySplit) {
  for (const std::string version : {"HTTP/0.9", "HTTP/2.0", "HTTP/3.0", "HTTP/4.1", "HTTP/9.9"}) {
    SCOPED_TRACE(version);
    EXPECT_EQ(run_at_every_split("GET / " + version + "\r\nHost: h\r\n\r\n").error, 505);
  }
  EXPECT_EQ(run_at_every_split("GET / HTTP/1.10\r\nHost: h\r\n\r\n").error, 400);
  EXPECT_EQ(run_at_every_split("GET / HTTP/12.0\r\nHost: h\r\n\r\n").error, 400);
}

// RFC 9112 3.2: 400 for a Host field whose value is not uri-host [ ":" port ] (RFC 3986 3.2.2,
// 3.2.3).
TEST(RequestParserHost, InvalidHostValuesAre400AtEverySplit) {
  for (const std::string host : {"a b",
                                 "example/x",
                                 "user@host",
                                 "host:8x",
                                 "ho<st>",
                                 "[::1",
                                 "::1",
                                 "[::g]",
                                 "[]",
                                 "[::1]x",
                                 "[::1]:8x",
                                 "ex%4",
                                 "ex%zzample",
                                 "host:80:80",
                                 "a?b",
                                 "a#b",
                                 "h\"q",
                                 "h\\q",
                                 "caf\xc3\xa9.example",
                                 "h{x}",
                                 "v1.2[x]",
                                 "[v1]",
                                 "[vx.a]"}) {
    SCOPED_TRACE("Host: " + host);
    EXPECT_EQ(run_at_every_split("GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n").error, 400);
    EXPECT_EQ(status_of("GET / HTTP/1.0\r\nHost: " + host + "\r\n\r\n"), 400);
  }
}

TEST(RequestParserHost, ValidHostValuesAreAcceptedAtEverySplit) {
  for (const std::string host :
       {"example.com", "example.com:8080", "host:", "127.0.0.1", "127.0.0.1:80", "[::1]",
        "[::1]:8080", "[2001:db8::7]:", "[::ffff:192.0.2.1]", "[v7.fe80::a+en1]", "ex%41mple",
        "a-b.c_d~", "!$&'()*+,;=", "EXAMPLE.COM", "localhost:0", ":80", ""}) {
    SCOPED_TRACE("Host: " + host);
    const Outcome out = run_at_every_split("GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
    EXPECT_EQ(out.error, 0);
    EXPECT_EQ(out.messages, 1);
  }
  // Whitespace around the value is not part of it (RFC 9110 5.5).
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost:  example.com \t\r\n\r\n"), 0);
}

// RFC 9112 5: field-name is a token, so a line that starts with the colon is malformed.
TEST(RequestParserFields, EmptyFieldNameIs400AtEverySplit) {
  for (const std::string input :
       {"GET / HTTP/1.1\r\nHost: h\r\n: value\r\n\r\n",
        "GET / HTTP/1.1\r\n: value\r\nHost: h\r\n\r\n", "GET / HTTP/1.1\r\nHost: h\r\n:\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\n:value\r\n\r\n", "GET / HTTP/1.0\r\n: value\r\n\r\n"}) {
    SCOPED_TRACE(printable_for_trace(input));
    EXPECT_EQ(run_at_every_split(input).error, 400);
  }
}

// RFC 9110 7.8: a server may ignore an Upgrade offer. What curl --http2 sends over cleartext
// is a plain HTTP/1.1 request: answered, kept alive, and the bytes after it are the next request.
const std::string kH2cOffer =
    "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
    "HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n";

TEST(RequestParserUpgrade, UpgradeOfferIsIgnoredAtEverySplit) {
  const std::string input = "GET /a HTTP/1.1\r\nHost: h\r\n" + kH2cOffer +
                            "\r\nGET /b HTTP/1.1\r\nHost: h\r\n" + kH2cOffer +
                            "\r\nHEAD /c HTTP/1.1\r\nHost: h\r\n\r\n";
  const Outcome out = run_at_every_split(input);
  EXPECT_EQ(out.error, 0);
  EXPECT_EQ(out.messages, 3);
  EXPECT_EQ(out.targets, (std::vector<std::string>{"/a", "/b", "/c"}));
  EXPECT_EQ(out.keep_alive, (std::vector<bool>{true, true, true}));
}

TEST(RequestParserUpgrade, UpgradeOfferWithABodyIsIgnoredAtEverySplit) {
  for (const std::string framing : {"Content-Length: 5\r\n\r\nhello",
                                    "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"}) {
    const std::string input =
        "POST /a HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n"
        "Upgrade: websocket\r\n" +
        framing + "GET /b HTTP/1.1\r\nHost: h\r\n\r\n";
    const Outcome out = run_at_every_split(input);
    EXPECT_EQ(out.error, 0);
    EXPECT_EQ(out.messages, 2);
    EXPECT_EQ(out.targets, (std::vector<std::string>{"/a", "/b"}));
    EXPECT_EQ(out.keep_alive, (std::vector<bool>{true, true}));
  }
  // HTTP/1.0 with an offer and keep-alive: still the usual HTTP/1.0 rule.
  const Outcome old = run("GET / HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n");
  EXPECT_EQ(old.keep_alive, std::vector<bool>{false});
}

// RFC 9112 7.1.1: unknown chunk extensions are ignored, however many there are. llhttp 8.1.0
// swallows the ";" after an unquoted value and then refuses the next extension
// (HPE_INVALID_CHUNK_SIZE); the parser gives it back.
TEST(RequestParserChunks, SeveralChunkExtensionsAreIgnoredAtEverySplit) {
  for (const std::string size_line : {"5;a=1;b=2", "5;a=1;b", "5;a=1;b=2;c=3", "5;a=\"x\";b=2;c",
                                      "5;a;b=2;c=3", "5;a=;b", "5;a=1;b=\"q;r\"", "5;a=1"}) {
    SCOPED_TRACE(size_line);
    const std::string input = "GET /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" +
                              size_line + "\r\nhello\r\n3;x=1;y=2\r\nabc\r\n0;z=1;w=2\r\n\r\n" +
                              "GET /b HTTP/1.1\r\nHost: h\r\n\r\n";
    const Outcome out = run_at_every_split(input);
    EXPECT_EQ(out.error, 0);
    EXPECT_EQ(out.messages, 2);
    EXPECT_EQ(out.targets, (std::vector<std::string>{"/a", "/b"}));
  }
}

// What llhttp refuses in chunk extensions stays refused.
TEST(RequestParserChunks, MalformedChunkExtensionsStay400AtEverySplit) {
  for (const std::string size_line : {"5;a=1; b=2", "5; a", "5;a=1;b=\x01", "5;a=\"x\"y", "5;",
                                      "5;a=1;", "5;a=1;b;", "5;a=1;b=2 ", "5;a=1;b=2\r\r"}) {
    SCOPED_TRACE(printable_for_trace(size_line));
    const std::string input = "GET /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" +
                              size_line + "\r\nhello\r\n0\r\n\r\n";
    EXPECT_EQ(run_at_every_split(input).error, 400);
  }
}

}  // namespace
}  // namespace cork
