// RequestHandler: routing (status page, file, listing, redirect, error) and the response heads.
// Must not touch the socket or read the clock: it returns a plan, the sender sends it.
#include "server/request_handler.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <exception>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "http/compression.h"
#include "http/directory_listing.h"
#include "http/file_response.h"
#include "http/response_head.h"
#include "http/status.h"
#include "http/target_path.h"
#include "server/access_line.h"
#include "server/static_file.h"

namespace cork {

namespace {

// The largest compressed copy whose ranges are sent as multipart/byteranges (assembled per
// response); a request for several ranges of a larger one gets the whole copy.
constexpr std::size_t kMaxMultipartCopyBytes = 64 * 1024;

// A per-thread splitmix64 stream, seeded once from the system: the multipart boundary only has to
// be unlikely to occur in the file, and drawing it costs a few instructions per request.
std::uint64_t next_boundary_seed() {
  thread_local std::uint64_t state = 0;
  if (state == 0) {
    try {
      std::random_device device;
      state = (std::uint64_t{device()} << 32) | device();
    } catch (const std::exception&) {
      // No entropy source: the clock and this thread's address still vary per process.
      timespec ts{};
      clock_gettime(CLOCK_MONOTONIC, &ts);
      state = static_cast<std::uint64_t>(ts.tv_nsec) ^ reinterpret_cast<std::uintptr_t>(&state);
    }
    state |= 1;  // never 0 again
  }
  std::uint64_t z = (state += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

}  // namespace

// One request's planning: the state the plan_* steps share. Lives for one handle() call.
class RequestHandler::Planner {
 public:
  Planner(const RequestHandler& handler, const RequestHead& head, const Settings* settings,
          const RequestFacts& facts)
      : handler_(handler), request_(head), settings_(settings), facts_(facts) {
    plan_.keep_alive = head.keep_alive && facts.keep_alive_allowed;
  }

  ResponsePlan route();
  ResponsePlan error(int status, bool close, std::string_view content_range = {},
                     bool body_for_head = false);

 private:
  ResponsePlan file(std::shared_ptr<const CachedFile> entry);
  // The copy of `entry` compressed on the fly that the request prefers, entered in `facts`, or
  // null (not compressible, a sidecar or identity preferred, or not made yet: then scheduled).
  std::shared_ptr<const CompressedCopy> compressed_copy(
      const std::shared_ptr<const CachedFile>& entry, FileFacts& facts);
  // The body (whole, one range, or multipart) of a 200/206 sent from a compressed copy.
  void copy_body(const CompressedCopy& copy, FileDecision& d, std::string_view content_type,
                 ResponseHead& response);
  ResponsePlan listing(std::string_view directory, std::string_view url_path);
  ResponsePlan status_page();
  ResponsePlan redirect(std::string_view location);
  // A head with the fields every response carries (status, Date, Connection).
  ResponseHead base_head(int status) const;
  ResponsePlan finish(const ResponseHead& head);

  const RequestHandler& handler_;
  const RequestHead& request_;
  const Settings* settings_;  // null for a request that failed to parse
  const RequestFacts& facts_;
  ResponsePlan plan_;
  bool reads_body_ = false;  // the connection reads (and discards) the body before answering
  bool expect_continue_ = false;
  std::optional<CodingWeights> accept_encoding_;  // Accept-Encoding, once parsed
};

ResponseHead RequestHandler::Planner::base_head(int status) const {
  ResponseHead head;
  head.status = status;
  head.date = facts_.date;
  if (!plan_.keep_alive) {
    head.connection = "close";
  } else if (request_.version_minor == 0) {
    head.connection = "keep-alive";  // RFC 9112 9.3: HTTP/1.0 keep-alive must be confirmed
  }
  return head;
}

ResponsePlan RequestHandler::Planner::finish(const ResponseHead& head) {
  thread_local fmt::memory_buffer buffer;
  buffer.clear();
  append_response_head(buffer, head);
  plan_.head.assign(buffer.data(), buffer.size());
  plan_.status = head.status;
  if (facts_.body != RequestBody::kNone) {
    plan_.request_body = reads_body_ ? ResponsePlan::Body::kDiscard : ResponsePlan::Body::kUnread;
  }
  return std::move(plan_);
}

ResponsePlan RequestHandler::Planner::route() {
  const RequestHead& head = request_;
  const bool has_body = facts_.body != RequestBody::kNone;
  // RFC 9110 10.1.1: 100-continue is the only expectation; HTTP/1.0 requests' are ignored.
  bool waits_for_continue = false;
  if (head.version_minor >= 1 && head.count("expect") > 0) {
    const auto expect = head.header("expect");
    if (head.count("expect") > 1 || !equals_ignore_case(*expect, "100-continue")) {
      return error(417, /*close=*/true);
    }
    waits_for_continue = has_body;
  }
  // Which bodies are read before the answer (server/connection.cc, "Request bodies"): one whose
  // length is known to fit, and a chunked one unless its client waits for 100 Continue (that
  // would be a promise to read a body of any size, RFC 9110 10.1.1). Any other is left unread:
  // the answer goes out at once and closes the connection (RFC 9112 9.6).
  reads_body_ = facts_.body == RequestBody::kFits ||
                (facts_.body == RequestBody::kChunked && !waits_for_continue);
  if (has_body && !reads_body_) plan_.keep_alive = false;
  expect_continue_ = waits_for_continue && reads_body_;
  if (head.method == Method::kOtherKnown) {
    // RFC 9110 15.5.6: 405 lists the methods the resource supports. A refused method's body is
    // never read: the 405 goes out at once.
    return error(405, /*close=*/has_body);
  }
  if (!settings_->status_path.empty()) {
    const std::string_view path = std::string_view(head.target).substr(0, head.target.find('?'));
    if (path == settings_->status_path) {
      // Never looked up in the document root, whoever asks.
      if (settings_->status_allow.allows(*facts_.peer)) return status_page();
      return error(404, /*close=*/false);
    }
  }
  const Target target = resolve_target(head.target);
  if (target.status != 0) return error(target.status, /*close=*/target.status == 400);
  FileCache::Result lookup = settings_->files->lookup(target, settings_->index, facts_.now_ms);
  handler_.metrics_.count_lookup(lookup.hit);
  if (lookup.descriptors_short) {
    handler_.metrics_.file_cache_sheds.fetch_add(1, std::memory_order_relaxed);
    handler_.log_.log_coalesced(LogLevel::kWarn,
                                "out of descriptors opening {}: the file cache gave back {} files",
                                head.target, lookup.shed);
  }
  if (lookup.file) return file(std::move(lookup.file));
  FileLookup& found = lookup.miss;
  if (found.status == 301) return redirect(found.location);
  if (found.directory_without_index && settings_->autoindex) {
    return listing(found.path, target.path);
  }
  if (found.status >= 500) {
    handler_.log_.log_coalesced(LogLevel::kWarn, "{}: {} for {}", peer_address(*facts_.peer),
                                found.status, head.target);
  }
  return error(found.status, /*close=*/false);
}

ResponsePlan RequestHandler::Planner::redirect(std::string_view location) {
  const std::string_view page = cork::status_page(301);
  ResponseHead response = base_head(301);
  response.content_type = "text/html; charset=utf-8";
  response.content_length = page.size();
  response.location = location;
  if (request_.method == Method::kGet) plan_.borrowed_body = page;
  plan_.expect_continue = expect_continue_;
  return finish(response);
}

ResponsePlan RequestHandler::Planner::file(std::shared_ptr<const CachedFile> entry) {
  FileFacts facts;
  auto describe = [](const FileRepresentation& rep) {
    RepresentationFacts f;
    f.present = static_cast<bool>(rep.file);
    f.size = static_cast<std::uint64_t>(rep.info.st_size);
    f.last_modified = rep.info.st_mtime;
    f.etag = rep.etag;
    return f;
  };
  facts.identity = describe(entry->identity);
  facts.br = describe(entry->br);
  facts.gzip = describe(entry->gz);
  facts.zstd = describe(entry->zst);
  facts.content_type = entry->content_type;
  // A copy compressed on the fly, when the client prefers a coding no sidecar provides.
  const std::shared_ptr<const CompressedCopy> copy = compressed_copy(entry, facts);
  FileResponseOptions options;
  options.accept_encoding = accept_encoding_;  // parsed once, when compressed_copy() did
  options.max_ranges = settings_->max_ranges;
  options.now = facts_.wall;
  options.boundary_seed = next_boundary_seed();
  FileDecision d = decide_file_response(request_, facts, options);
  if (d.status == 412) return error(412, /*close=*/false);
  if (d.status == 416) return error(416, /*close=*/false, d.content_range);
  const bool from_copy = copy && d.coding == copy->coding;
  if (from_copy && d.multipart_body() && copy->bytes.size() > kMaxMultipartCopyBytes) {
    // A multipart body is assembled in memory per response; of a large copy that would cost
    // each connection up to the copy's size. RFC 9110 14.2: a server may ignore Range; the
    // whole copy is shared, not copied.
    d.status = 200;
    d.ranges.clear();
    d.multipart = {};
    d.multipart_type.clear();
    d.content_range.clear();
    d.content_length = copy->bytes.size();
    d.send_body = request_.method == Method::kGet && !copy->bytes.empty();
  }
  const FileRepresentation& rep = d.coding == Coding::kBrotli ? entry->br
                                  : d.coding == Coding::kGzip ? entry->gz
                                  : d.coding == Coding::kZstd ? entry->zst
                                                              : entry->identity;
  const RepresentationFacts& chosen = facts.of(d.coding);

  ResponseHead response = base_head(d.status);
  // RFC 9110 8.8.2.1: a modification time later than the response's Date is sent as the Date.
  const bool modified_in_future = chosen.last_modified > facts_.wall;
  response.last_modified = modified_in_future ? facts_.wall : chosen.last_modified;
  response.etag = chosen.etag;
  response.vary = d.vary;
  response.cache_control = settings_->cache_control;
  plan_.expect_continue = expect_continue_;
  if (d.status == 304) {
    // RFC 9110 15.4.5: the validators and Cache-Control/Vary a 200 would carry, no content.
    response.omit_content_length = true;
    return finish(response);
  }
  response.content_encoding = coding_name(d.coding);
  response.accept_ranges = true;
  response.content_length = d.content_length;
  if (from_copy) {
    copy_body(*copy, d, entry->content_type, response);
    if (d.send_body) {
      handler_.compressor_->count_sent(facts.identity.size, copy->bytes.size());
      plan_.compressed = copy;  // keeps the borrowed bytes alive until they are sent
    }
    return finish(response);
  }
  if (d.status == 200) {
    if (modified_in_future || rep.fields_200.empty() || facts.negotiable) {
      // Formatted for this response: Date-capped, an entry the cache does not keep, or a file
      // whose Vary its preformatted fields may lack.
      response.content_type = entry->content_type;
    } else {
      response.preformatted_fields = rep.fields_200;  // Content-Type .. Cache-Control
    }
    if (d.send_body) {
      if (rep.in_memory) {
        plan_.borrowed_body = rep.body;  // head and body leave in one system call
      } else {
        plan_.pieces.push_back({{}, 0, d.content_length});
      }
    }
  } else if (!d.multipart_body()) {
    response.content_type = entry->content_type;
    response.content_range = d.content_range;
    if (d.send_body) {
      const ByteRange& r = d.ranges.front();
      plan_.pieces.push_back({{}, static_cast<off_t>(r.first), r.length()});
    }
  } else {
    response.content_type = d.multipart_type;
    if (d.send_body) {
      plan_.pieces.reserve(d.multipart.parts.size() + 1);
      for (MultipartPart& part : d.multipart.parts) {
        plan_.pieces.push_back(
            {std::move(part.head), static_cast<off_t>(part.range.first), part.range.length()});
      }
      plan_.pieces.push_back({std::move(d.multipart.tail), 0, 0});
    }
  }
  if (!plan_.pieces.empty()) plan_.file_fd = rep.file.get();
  // Keeps the descriptor open and the in-memory bytes alive until the response is sent.
  if (!plan_.pieces.empty() || !plan_.borrowed_body.empty()) plan_.file = std::move(entry);
  return finish(response);
}

std::shared_ptr<const CompressedCopy> RequestHandler::Planner::compressed_copy(
    const std::shared_ptr<const CachedFile>& entry, FileFacts& facts) {
  const CompressionPolicy& policy = settings_->compression;
  const auto size = static_cast<std::uint64_t>(entry->identity.info.st_size);
  if (handler_.compressor_ == nullptr || !policy.enabled || policy.codings.empty() ||
      size < policy.min_size || size > policy.max_size ||
      !type_matches(entry->content_type, policy.types)) {
    return nullptr;
  }
  // RFC 9110 12.5.5: the answer depends on Accept-Encoding whatever is sent now.
  facts.negotiable = true;
  accept_encoding_ = request_coding_weights(request_);
  const Coding want = preferred_coding(
      *accept_encoding_, [&](Coding c) { return facts.of(c).present || policy.offers(c); });
  if (want == Coding::kIdentity || facts.of(want).present) return nullptr;  // a sidecar wins
  std::shared_ptr<const CompressedCopy> copy = handler_.compressor_->get_or_schedule(
      entry, want, policy.level(want), policy.second_level(want));
  if (!copy || copy->useless) return nullptr;  // identity (or a sidecar) meanwhile
  RepresentationFacts& slot = want == Coding::kBrotli ? facts.br
                              : want == Coding::kZstd ? facts.zstd
                                                      : facts.gzip;
  slot = {true, static_cast<std::uint64_t>(copy->bytes.size()), entry->identity.info.st_mtime,
          copy->etag};
  return copy;
}

void RequestHandler::Planner::copy_body(const CompressedCopy& copy, FileDecision& d,
                                        std::string_view content_type, ResponseHead& response) {
  // The copy is in memory: whatever part of it is sent leaves with the head in one system call.
  const std::string_view bytes = copy.bytes;
  if (d.status == 200) {
    response.content_type = content_type;
    if (d.send_body) plan_.borrowed_body = bytes;
  } else if (!d.multipart_body()) {
    response.content_type = content_type;
    response.content_range = d.content_range;
    const ByteRange& r = d.ranges.front();
    if (d.send_body) plan_.borrowed_body = bytes.substr(r.first, r.length());
  } else {
    response.content_type = d.multipart_type;
    if (d.send_body) {
      std::string body;
      body.reserve(d.content_length);
      for (const MultipartPart& part : d.multipart.parts) {
        body += part.head;
        body.append(bytes.substr(part.range.first, part.range.length()));
      }
      body += d.multipart.tail;
      plan_.owned_body = std::move(body);
    }
  }
}

ResponsePlan RequestHandler::Planner::listing(std::string_view directory,
                                              std::string_view url_path) {
  const std::string accept = request_.combined("accept").value_or("");
  const bool json = prefers_json(accept);
  FileCache::ListingResult listed = settings_->files->listing(
      directory, url_path, json ? FileCache::ListingFormat::kJson : FileCache::ListingFormat::kHtml,
      facts_.now_ms);
  if (!listed.page) {
    handler_.log_.log_coalesced(LogLevel::kWarn, "{}: cannot list {}: {}",
                                peer_address(*facts_.peer), request_.target,
                                std::strerror(listed.error));
    return error(listed.error == EACCES ? 403 : 500, /*close=*/false);
  }
  ResponseHead response = base_head(200);
  response.content_type = json ? "application/json; charset=utf-8" : "text/html; charset=utf-8";
  response.content_length = listed.page->body.size();
  response.vary = "Accept";  // the format follows the Accept field
  response.cache_control = settings_->cache_control;
  if (request_.method == Method::kGet) {
    plan_.borrowed_body = listed.page->body;  // head and page leave in one system call
    plan_.page = std::move(listed.page);
  }
  plan_.expect_continue = expect_continue_;
  return finish(response);
}

ResponsePlan RequestHandler::Planner::status_page() {
  std::string page = render_metrics(handler_.metrics_, handler_.gauges_.gauges());
  ResponseHead response = base_head(200);
  response.content_type = "text/plain; version=0.0.4; charset=utf-8";
  response.content_length = page.size();
  response.cache_control = "no-store";
  if (request_.method == Method::kGet) plan_.owned_body = std::move(page);
  plan_.expect_continue = expect_continue_;
  return finish(response);
}

ResponsePlan RequestHandler::Planner::error(int status, bool close, std::string_view content_range,
                                            bool body_for_head) {
  // A refused request whose client waits for 100 Continue gets the final response without it
  // (RFC 9110 10.1.1), and the connection closes instead of reading a body that may never come.
  if (close || expect_continue_) {
    plan_.keep_alive = false;
    reads_body_ = false;
  }
  const std::string_view page = cork::status_page(status);
  ResponseHead response = base_head(status);
  response.content_type = "text/html; charset=utf-8";
  response.content_length = page.size();
  response.content_range = content_range;
  if (status == 405) response.allow = "GET, HEAD";
  // RFC 9110 10.2.3 / 15.6.4: an overloaded server says when to come back.
  if (status == 503) response.retry_after = "1";
  // A HEAD request gets the head only; a request that failed to parse has no method to trust.
  if (request_.method != Method::kHead || body_for_head) plan_.borrowed_body = page;
  return finish(response);
}

ResponsePlan RequestHandler::handle(const RequestHead& head, const Settings& settings,
                                    const RequestFacts& facts) const {
  return Planner(*this, head, &settings, facts).route();
}

ResponsePlan RequestHandler::refuse_malformed(int status, const RequestHead& head,
                                              const RequestFacts& facts) const {
  return Planner(*this, head, nullptr, facts)
      .error(status, /*close=*/true, {}, /*body_for_head=*/true);
}

ResponsePlan RequestHandler::refuse_timed_out(const RequestHead& head,
                                              const RequestFacts& facts) const {
  return Planner(*this, head, nullptr, facts).error(408, /*close=*/true);
}

ResponsePlan RequestHandler::refuse_overloaded(std::string_view date) const {
  const RequestHead no_request;
  RequestFacts facts;
  facts.date = date;
  facts.keep_alive_allowed = false;
  return Planner(*this, no_request, nullptr, facts)
      .error(503, /*close=*/true, {}, /*body_for_head=*/true);
}

}  // namespace cork
