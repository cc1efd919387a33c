// Fuzz target: bytes from the network -> RequestParser -> resolve_target and the pure decisions
// the server takes on each request head (preconditions, If-Range, Range). It checks the
// security invariants of the resolved path and the invariants of the range decision, and that
// the parser honours its own contract (consumes what it says, keeps failing after an error).
// Input: the first byte picks where the rest is cut in two, as two reads from a socket would.
// Built with libFuzzer (CORK_FUZZ=ON) and, in every build, into a corpus replay test.
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <limits>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "http/conditional.h"
#include "http/entity_tag.h"
#include "http/range.h"
#include "http/request.h"
#include "http/request_parser.h"
#include "http/target_path.h"

namespace cork::fuzz {
namespace {

using Event = RequestParser::Event;

// 1994-11-06 08:49:37 UTC, the RFC's example date, so corpus dates can hit it exactly.
constexpr std::time_t kLastModified = 784111777;

// The guarantees of target_path.h for a usable target (status 0).
void check_resolved_path(const std::string& path) {
  CORK_FUZZ_CHECK(!path.empty() && path.front() == '/');
  CORK_FUZZ_CHECK(path.find("/../") == std::string::npos);
  CORK_FUZZ_CHECK(!path.ends_with("/.."));
  CORK_FUZZ_CHECK(path.find("/./") == std::string::npos);
  CORK_FUZZ_CHECK(!path.ends_with("/."));
  CORK_FUZZ_CHECK(path.find("//") == std::string::npos);
  CORK_FUZZ_CHECK(path.find('\\') == std::string::npos);
  for (char c : path) {
    const auto u = static_cast<unsigned char>(c);
    CORK_FUZZ_CHECK(u >= 0x20 && u != 0x7f);  // includes NUL
  }
  // No segment names a dotfile or dot-directory, except a first ".well-known" (RFC 8615).
  std::size_t start = 1;
  for (std::size_t index = 0; start < path.size(); ++index) {
    std::size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    const std::string_view segment(path.data() + start, end - start);
    CORK_FUZZ_CHECK(!segment.empty());
    if (segment.front() == '.') CORK_FUZZ_CHECK(index == 0 && segment == ".well-known");
    start = end + 1;
  }
  // Normalizing is idempotent: a resolved path resolves to itself. Only for paths that cannot
  // be read differently the second time ('%' would be decoded again; '?' and '#' are syntax).
  if (path.find_first_of("%?#") == std::string::npos) {
    const Target again = resolve_target(path);
    CORK_FUZZ_CHECK(again.status == 0);
    CORK_FUZZ_CHECK(again.path == path);
  }
}

void check_target(std::string_view request_target) {
  const Target t = resolve_target(request_target);
  if (t.status != 0) {
    CORK_FUZZ_CHECK(t.status == 400 || t.status == 404);
    return;
  }
  check_resolved_path(t.path);
  CORK_FUZZ_CHECK(t.has_query || t.query.empty());
}

bool has_any(const RequestHead& head, std::initializer_list<std::string_view> names) {
  for (std::string_view name : names) {
    if (head.count(name) > 0) return true;
  }
  return false;
}

// What the server decides for a GET of a file of `size` bytes with this head.
void check_decisions(const RequestHead& head, std::uint64_t size, std::time_t now) {
  const std::string etag = make_etag(kLastModified, 0, size);
  const Validators v{etag, kLastModified, now};

  const Precondition p = evaluate_preconditions(head, v);
  CORK_FUZZ_CHECK(p == Precondition::kProceed || p == Precondition::kNotModified ||
                  p == Precondition::kFailed);
  if (!has_any(head, {"If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since"})) {
    CORK_FUZZ_CHECK(p == Precondition::kProceed);
  }
  const bool range_allowed = if_range_allows(head, v);
  if (head.count("If-Range") == 0) CORK_FUZZ_CHECK(range_allowed);

  if (const auto range = head.header("Range")) {
    for (std::size_t max_ranges : {std::size_t{1}, std::size_t{16}}) {
      check_range_decision(decide_range(*range, size, max_ranges), size, max_ranges);
    }
  }
}

void check_head(const RequestHead& head, std::uint64_t derived_size, std::time_t now) {
  CORK_FUZZ_CHECK(!head.target.empty());
  CORK_FUZZ_CHECK(head.version_major == 1 && (head.version_minor == 0 || head.version_minor == 1));
  for (std::size_t i = 0; i < head.field_count(); ++i) {
    // header() finds every field the head holds.
    CORK_FUZZ_CHECK(head.header(head.field_name(i)).has_value());
  }
  check_target(head.target);
  // Sizes: empty, one byte, small, the largest off_t, and one taken from the input.
  for (std::uint64_t size :
       {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{100},
        std::uint64_t{std::numeric_limits<std::int64_t>::max()}, derived_size}) {
    check_decisions(head, size, now);
  }
}

}  // namespace
}  // namespace cork::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cork;
  using namespace cork::fuzz;
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::size_t split = input.size() * data[0] / 255;
  const std::uint64_t derived_size = input.size() * 1000 + data[0];
  // The file was modified either long ago (a strong validator) or within the response's second.
  const std::time_t now = kLastModified + (data[0] & 1);

  const ParserLimits limits;  // the defaults, as in conf/cork.ini
  RequestParser parser(limits);
  for (std::string_view piece : {input.substr(0, split), input.substr(split)}) {
    int idle_events = 0;  // events in a row that consumed nothing
    while (true) {
      const RequestParser::Result r = parser.feed(piece);
      CORK_FUZZ_CHECK(r.consumed <= piece.size());
      piece.remove_prefix(r.consumed);
      idle_events = r.consumed == 0 ? idle_events + 1 : 0;
      // kHeadComplete, kMessageComplete and kNeedMore may each consume nothing; a parser that
      // goes on returning events without consuming would loop forever in the server.
      CORK_FUZZ_CHECK(idle_events <= 3);
      if (r.event == Event::kNeedMore) {
        CORK_FUZZ_CHECK(piece.empty());
        break;
      }
      if (r.event == Event::kError) {
        const int status = parser.error_status();
        CORK_FUZZ_CHECK(status == 400 || status == 414 || status == 431 || status == 501 ||
                        status == 505);
        CORK_FUZZ_CHECK(parser.feed("GET / HTTP/1.1\r\nHost: h\r\n\r\n").event == Event::kError);
        return 0;
      }
      if (r.event == Event::kHeadComplete) check_head(parser.head(), derived_size, now);
    }
  }
  return 0;
}
