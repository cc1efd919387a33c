// RequestHandler: decides the response to one request as a value (a ResponsePlan): the status
// page, a file (through the open-file cache and http/file_response.h's pure decision), a
// directory listing, a redirect or an error page. It reads the file system through the cache
// and the root, never the socket, and never the clock (the caller passes the times in
// RequestFacts). The connection hands the plan to the sender.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <ctime>
#include <string_view>

#include "http/request.h"
#include "server/compressor.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/response_plan.h"
#include "server/settings.h"

namespace cork {

// A request's body as the connection knows it when it asks for a plan: what the head announced,
// measured against max_discard_body.
enum class RequestBody : std::uint8_t {
  kNone,      // no body
  kFits,      // a Content-Length within max_discard_body
  kChunked,   // chunked: its length shows only as it is read (the connection stops at the limit)
  kTooLarge,  // a longer Content-Length, or a chunked body that went past the limit
};

// What the handler needs to know about a request besides its head. Copyable value; borrows.
struct RequestFacts {
  const sockaddr_storage* peer = nullptr;  // for the status page's address filter and logs
  std::int64_t now_ms = 0;                 // monotonic, for the file cache's freshness
  std::time_t wall = 0;                    // for validators (If-Range's strong-date rule)
  // The Date field: a view into clock.h's per-thread cache, valid while handle() runs (nothing in
  // it formats another date).
  std::string_view date;
  bool keep_alive_allowed = true;  // keep-alive configured and the server not draining
  RequestBody body = RequestBody::kNone;
};

// Neither copyable nor movable (holds references); one per server, shared by every worker.
// handle() and refuse_malformed() are safe to call from any thread at once.
class RequestHandler {
 public:
  // `compressor`: makes the copies compressed on the fly; null = no compression on the fly.
  RequestHandler(Logger& log, Metrics& metrics, const GaugeSource& gauges,
                 Compressor* compressor = nullptr)
      : log_(log), metrics_(metrics), gauges_(gauges), compressor_(compressor) {}
  RequestHandler(const RequestHandler&) = delete;
  RequestHandler& operator=(const RequestHandler&) = delete;

  // The response to a request whose head is complete.
  ResponsePlan handle(const RequestHead& head, const Settings& settings,
                      const RequestFacts& facts) const;
  // The response to a request that failed to parse (`status` from the parser): an error page
  // and a close, since the byte stream cannot be trusted any more.
  ResponsePlan refuse_malformed(int status, const RequestHead& head,
                                const RequestFacts& facts) const;
  // The 503 the reactor sends when it cannot take a connection (no request read): an error page
  // and a close. `date` is the Date field.
  ResponsePlan refuse_overloaded(std::string_view date) const;
  // The 408 for a request whose body did not arrive within header_timeout: an error page and a
  // close (RFC 9110 15.5.9).
  ResponsePlan refuse_timed_out(const RequestHead& head, const RequestFacts& facts) const;

 private:
  class Planner;

  Logger& log_;
  Metrics& metrics_;
  const GaugeSource& gauges_;
  Compressor* const compressor_;
};

}  // namespace cork
