// RequestParser: drives llhttp one request at a time and adds cork's limits and strictness.
#include "http/request_parser.h"

#include <algorithm>
#include <cstring>

#include "http/ascii.h"
#include "http/host_field.h"

namespace cork {

namespace {

// RFC 9110 5.6.2: tchar.
bool is_tchar(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != 0;
}

RequestParser& self(llhttp_t* p) {
  return *static_cast<RequestParser*>(p->data);
}

}  // namespace

RequestParser::RequestParser(const ParserLimits& limits) : limits_(limits) {
  // The callbacks are the same for every parser: one shared, immutable table (llhttp only
  // reads it), instead of 184 bytes in each of 10,000 idle connections.
  static const llhttp_settings_t kSettings = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_message_begin = &RequestParser::on_message_begin;
    s.on_url = &RequestParser::on_url;
    s.on_version_complete = &RequestParser::on_version_complete;
    s.on_header_field = &RequestParser::on_header_field;
    s.on_header_value = &RequestParser::on_header_value;
    s.on_header_value_complete = &RequestParser::on_header_value_complete;
    s.on_headers_complete = &RequestParser::on_headers_complete;
    s.on_chunk_extension_value_complete = &RequestParser::on_chunk_extension_value_complete;
    s.on_message_complete = &RequestParser::on_message_complete;
    return s;
  }();
  llhttp_init(&parser_, HTTP_REQUEST, &kSettings);
  // RFC 9110 2.5: a request with a higher HTTP/1 minor version than cork's (HTTP/1.2) is
  // processed as HTTP/1.1. llhttp 8.1 refuses any version but 0.9, 1.0, 1.1 and 2.0 unless
  // LENIENT_VERSION is set (8.1 has no setter for it; the flag only skips that list, one digit
  // "." one digit is still required): on_version_complete decides instead.
  parser_.lenient_flags |= LENIENT_VERSION;
  parser_.data = this;
}

RequestParser::Result RequestParser::feed(std::string_view bytes) {
  if (method_undecided_) return classify_method(bytes, 0);
  if (failed_) return {Event::kError, 0};
  if (paused_) {
    llhttp_resume(&parser_);
    paused_ = false;
  }
  if (message_complete_) {
    // The previous request is answered; what follows belongs to the next one.
    message_complete_ = false;
    head_complete_ = false;
    message_started_ = false;
    head_bytes_ = 0;
    method_bytes_seen_ = 0;
    scan_ = HeadScan::kBeforeLine;
    previous_was_space_ = false;
    has_body_ = false;
    chunked_ = false;
    content_length_ = 0;
  }
  // An empty feed still runs llhttp: after kHeadComplete of a request without a body, the end
  // of the message needs no more bytes.
  if (bytes.data() == nullptr) bytes = std::string_view("", 0);

  if (scan_ != HeadScan::kDone && !scan_head(bytes)) {
    failed_ = true;
    return {Event::kError, 0};
  }
  const bool head_was_complete = head_complete_;
  std::size_t consumed = 0;
  const llhttp_errno_t err = execute(bytes, consumed);

  // Remember the first bytes of the request line: they tell an unknown method (501) from junk.
  if (!head_was_complete && method_bytes_seen_ < sizeof(method_prefix_) - 1) {
    std::size_t take = std::min(bytes.size(), consumed + 1);
    take = std::min(take, sizeof(method_prefix_) - 1 - method_bytes_seen_);
    std::memcpy(method_prefix_ + method_bytes_seen_, bytes.data(), take);
    method_bytes_seen_ += take;
  }
  if (!head_was_complete) head_bytes_ += consumed;

  if (err == HPE_OK || err == HPE_PAUSED) {
    if (!head_complete_ && head_bytes_ > limits_.max_header_bytes) {
      fail(431, "request head too large");
      return {Event::kError, consumed};
    }
    if (err == HPE_OK) return {Event::kNeedMore, consumed};
    paused_ = true;
    if (message_complete_) return {Event::kMessageComplete, consumed};
    if (head_bytes_ > limits_.max_header_bytes) {
      fail(431, "request head too large");
      return {Event::kError, consumed};
    }
    return {Event::kHeadComplete, consumed};
  }
  map_llhttp_error(err);
  if (method_undecided_) {
    // The offending byte itself was a token byte: look at the ones after it.
    const std::size_t next = std::min(bytes.size(), consumed + 1);
    return classify_method(bytes.substr(next), next);
  }
  failed_ = true;
  return {Event::kError, consumed};
}

llhttp_errno_t RequestParser::execute(std::string_view bytes, std::size_t& consumed) {
  consumed = bytes.size();
  llhttp_errno_t err = llhttp_execute(&parser_, bytes.data(), bytes.size());
  std::size_t at = 0;  // where the last llhttp_execute started in `bytes`
  while (err == HPE_PAUSED && chunk_extension_paused_) {
    chunk_extension_paused_ = false;
    at = static_cast<std::size_t>(llhttp_get_error_pos(&parser_) - bytes.data());
    llhttp_resume(&parser_);
    // RFC 9112 7.1.1: a chunk may carry any number of extensions. llhttp 8.1.0 consumes the
    // ";" that ends an unquoted extension value and then expects the end of the chunk-size
    // line, so "5;a=1;b=2" is refused (and "5;a=1;" accepted). That ";" is the byte just
    // before where it paused (after a value that ends at CRLF or a closing quote, the byte
    // before is the value's or the quote); feeding it again puts llhttp where it is after
    // "5;a;": at the next extension, which it checks as it checks the first one.
    if (at > 0 && bytes[at - 1] == ';' && llhttp_execute(&parser_, ";", 1) != HPE_OK) {
      fail(400, "malformed chunk extension");
      consumed = at;
      return HPE_USER;
    }
    err = llhttp_execute(&parser_, bytes.data() + at, bytes.size() - at);
  }
  if (err != HPE_OK) {
    const char* pos = llhttp_get_error_pos(&parser_);
    consumed = pos ? static_cast<std::size_t>(pos - bytes.data()) : at;
    if (consumed > bytes.size()) consumed = bytes.size();
  }
  return err;
}

bool RequestParser::scan_head(std::string_view bytes) {
  // What llhttp 8.1 lets through, checked on the raw bytes of the head so that the answer does
  // not depend on where reads split them: RFC 9112 3, exactly one SP between the parts of the
  // request line; RFC 9112 5.2, no obs-fold (a header line that starts with SP or HTAB).
  // Within a line only its end matters (and, in the request line, a doubled space): those
  // stretches are skipped with memchr instead of byte by byte.
  const char* p = bytes.data();
  const char* const end = p + bytes.size();
  while (p < end) {
    switch (scan_) {
      case HeadScan::kBeforeLine:
        // RFC 9112 2.2: empty lines before a request line are ignored.
        if (*p == '\r' || *p == '\n') {
          ++p;
          continue;
        }
        scan_ = HeadScan::kRequestLine;
        [[fallthrough]];
      case HeadScan::kRequestLine: {
        const auto* newline = static_cast<const char*>(std::memchr(p, '\n', end - p));
        const char* const line_end = newline != nullptr ? newline : end;
        // A space ending the previous read counts with one starting this one.
        const bool doubled = (previous_was_space_ && p < line_end && *p == ' ') ||
                             std::string_view(p, line_end - p).find("  ") != std::string_view::npos;
        if (doubled) {
          fail(400, "more than one space in the request line");
          return false;
        }
        if (newline == nullptr) {
          previous_was_space_ = end[-1] == ' ';
          return true;
        }
        previous_was_space_ = false;
        scan_ = HeadScan::kLineStart;
        p = newline + 1;
        continue;
      }
      case HeadScan::kLineStart:
        if (*p == ' ' || *p == '\t') {
          fail(400, "obsolete line folding");
          return false;
        }
        scan_ = *p == '\r'   ? HeadScan::kBlankLine
                : *p == '\n' ? HeadScan::kDone
                             : HeadScan::kInLine;
        ++p;
        continue;
      case HeadScan::kBlankLine:
        // A bare CR is llhttp's to refuse.
        scan_ = *p == '\n' ? HeadScan::kDone : HeadScan::kInLine;
        ++p;
        continue;
      case HeadScan::kInLine: {
        const auto* newline = static_cast<const char*>(std::memchr(p, '\n', end - p));
        if (newline == nullptr) return true;
        scan_ = HeadScan::kLineStart;
        p = newline + 1;
        continue;
      }
      case HeadScan::kDone:
        return true;  // the body and whatever follows are not head bytes
    }
  }
  return true;
}

RequestParser::Result RequestParser::classify_method(std::string_view rest,
                                                     std::size_t consumed_before) {
  // RFC 9112 3: request-line = method SP request-target SP HTTP-version. A token that is not a
  // method cork knows, followed by SP, is an unrecognized method (RFC 9110 9.1: 501); anything
  // else (no SP, a control byte, a TLS handshake) is a malformed request line (400).
  for (std::size_t i = 0; i < rest.size(); ++i) {
    const auto c = static_cast<unsigned char>(rest[i]);
    if (is_tchar(c) && ++method_length_ <= limits_.max_request_line) continue;
    method_undecided_ = false;
    failed_ = true;
    if (c == ' ') {
      error_status_ = 501;
      error_reason_ = "unknown method";
    } else {
      error_status_ = 400;
      error_reason_ = "malformed request line";
    }
    return {Event::kError, consumed_before + i};
  }
  return {Event::kNeedMore, consumed_before + rest.size()};
}

int RequestParser::fail(int status, std::string_view reason) {
  if (!failed_) {
    failed_ = true;
    error_status_ = status;
    error_reason_ = reason;
  }
  return HPE_USER;
}

void RequestParser::map_llhttp_error(llhttp_errno_t err) {
  if (error_status_ != 0) return;  // one of our callbacks already decided
  switch (err) {
    case HPE_INVALID_METHOD: {
      // RFC 9110 9.1: an unrecognized method gets 501; bytes that are not a method token at
      // all (a TLS handshake, binary junk) are a malformed request.
      std::string_view prefix(method_prefix_, method_bytes_seen_);
      while (!prefix.empty() && (prefix.front() == '\r' || prefix.front() == '\n')) {
        prefix.remove_prefix(1);
      }
      const std::size_t sp = prefix.find(' ');
      const bool has_space = sp != std::string_view::npos;
      if (has_space) prefix = prefix.substr(0, sp);
      bool token = !prefix.empty();
      for (unsigned char c : prefix)
        token = token && is_tchar(c);
      if (token && !has_space) {
        // "HELLO" so far: the bytes after the prefix decide (see classify_method).
        method_undecided_ = true;
        method_length_ = prefix.size();
        return;
      }
      error_status_ = token ? 501 : 400;
      error_reason_ = token ? "unknown method" : "malformed request line";
      return;
    }
    case HPE_INVALID_VERSION:
      // llhttp says "Invalid HTTP version" for a well-formed digit.digit it does not know
      // (HTTP/3.0; with LENIENT_VERSION on_version_complete decides first): that is 505 (RFC
      // 9110 15.6.6); other version errors are syntax.
      if (std::string_view(llhttp_get_error_reason(&parser_)) == "Invalid HTTP version") {
        error_status_ = 505;
        error_reason_ = "HTTP version not supported";
      } else {
        error_status_ = 400;
        error_reason_ = "malformed HTTP version";
      }
      return;
    case HPE_PAUSED_UPGRADE:
    case HPE_PAUSED_H2_UPGRADE:
      error_status_ = 400;
      error_reason_ = "protocol upgrade not supported";
      return;
    default:
      error_status_ = 400;
      error_reason_ = llhttp_errno_name(err);
      return;
  }
}

int RequestParser::on_message_begin(llhttp_t* p) {
  RequestParser& s = self(p);
  s.head_.clear();
  s.message_started_ = true;
  s.in_field_value_ = true;  // the next field name starts a new field
  s.version_seen_ = false;
  return 0;
}

int RequestParser::on_url(llhttp_t* p, const char* at, std::size_t length) {
  RequestParser& s = self(p);
  s.head_.target.append(at, length);
  // method SP request-target SP HTTP-version CRLF
  const std::size_t line =
      std::strlen(llhttp_method_name(static_cast<llhttp_method_t>(p->method))) + 1 +
      s.head_.target.size() + 1 + 10;
  if (line > s.limits_.max_request_line) return s.fail(414, "request line too long");
  return 0;
}

int RequestParser::on_version_complete(llhttp_t* p) {
  // cork speaks HTTP/1.0 and HTTP/1.1: any other major version is 505 (RFC 9110 15.6.6); a
  // higher minor version of HTTP/1 is processed as HTTP/1.1 (RFC 9110 2.5), and the response
  // says HTTP/1.1 as every response does.
  if (p->http_major != 1) {
    return self(p).fail(505, "HTTP version not supported");
  }
  self(p).version_seen_ = true;
  return 0;
}

int RequestParser::on_header_field(llhttp_t* p, const char* at, std::size_t length) {
  RequestParser& s = self(p);
  if (s.in_field_value_) {
    if (s.head_.field_count() >= s.limits_.max_headers) return s.fail(431, "too many fields");
    s.head_.begin_field();
    s.in_field_value_ = false;
  }
  // RFC 9112 5.1: no whitespace between the field name and the colon (llhttp 8.1 passes it
  // through as part of the name); RFC 9110 5.1: names are tokens.
  for (std::size_t i = 0; i < length; ++i) {
    if (!is_tchar(static_cast<unsigned char>(at[i]))) return s.fail(400, "invalid field name");
  }
  s.head_.append_name(std::string_view(at, length));
  return 0;
}

int RequestParser::on_header_value(llhttp_t* p, const char* at, std::size_t length) {
  RequestParser& s = self(p);
  s.head_.append_value(std::string_view(at, length));
  return 0;
}

int RequestParser::on_header_value_complete(llhttp_t* p) {
  RequestParser& s = self(p);
  // RFC 9112 5: field-name = token, so never empty. llhttp 8.1 takes ": value" as a field with
  // an empty name (on_header_field with no bytes, or none at all).
  if (s.in_field_value_ || s.head_.field_name(s.head_.field_count() - 1).empty()) {
    return s.fail(400, "empty field name");
  }
  s.in_field_value_ = true;
  return 0;
}

int RequestParser::on_headers_complete(llhttp_t* p) {
  RequestParser& s = self(p);
  // RFC 9110 7.8: a server may ignore Upgrade, and cork does (it speaks nothing else): with
  // "Connection: upgrade" and Upgrade, llhttp 8.1 would stop after this request
  // (HPE_PAUSED_UPGRADE) and take what follows for another protocol. Cleared here, before
  // llhttp reads it after this callback, the request is an ordinary one: its body is read, it
  // may be kept alive, and the next bytes are the next request. CONNECT stays an upgrade: cork
  // refuses it (405) and closes.
  if (p->method != HTTP_CONNECT) p->upgrade = 0;
  if (s.check_head() != 0) return -1;
  s.head_complete_ = true;
  // llhttp counts content_length down as it skips the body: the announced length is read here.
  s.chunked_ = (p->flags & F_CHUNKED) != 0;
  s.content_length_ = (p->flags & F_CONTENT_LENGTH) != 0 && !s.chunked_ ? p->content_length : 0;
  s.has_body_ = s.chunked_ || s.content_length_ > 0;
  return HPE_PAUSED;
}

int RequestParser::check_head() {
  RequestHead& h = head_;
  // llhttp 8.1 takes "GET /" without a version as HTTP/0.9; RFC 9112 3 requires the version.
  if (!version_seen_) {
    fail(400, "missing HTTP version");
    return -1;
  }
  h.version_major = parser_.http_major;
  // RFC 9110 2.5: HTTP/1.2 and above are processed as HTTP/1.1, so the head says 1.1 and
  // nothing after the parser meets another minor version.
  h.version_minor = std::min<int>(parser_.http_minor, 1);
  const auto method = static_cast<llhttp_method_t>(parser_.method);
  h.method_name = llhttp_method_name(method);
  h.method = method == HTTP_GET    ? Method::kGet
             : method == HTTP_HEAD ? Method::kHead
                                   : Method::kOtherKnown;
  h.keep_alive = llhttp_should_keep_alive(&parser_) != 0 && parser_.upgrade == 0;

  // RFC 9112 3.2: a server MUST respond 400 to an HTTP/1.1 request without Host, and to any
  // request with more than one Host field.
  const std::size_t hosts = h.count("host");
  if (hosts > 1 || (hosts == 0 && h.version_minor == 1)) {
    fail(400, hosts > 1 ? "duplicate Host" : "missing Host");
    return -1;
  }
  // RFC 9112 3.2: and to any request whose Host is not a valid uri-host [ ":" port ].
  if (hosts == 1 && !is_valid_host_field(*h.header("host"))) {
    fail(400, "invalid Host");
    return -1;
  }
  // RFC 9112 6.1: Transfer-Encoding. cork understands only "chunked", once, as the final coding.
  if (h.count("transfer-encoding") > 0) {
    if (h.version_minor == 0) {
      fail(400, "Transfer-Encoding in HTTP/1.0");
      return -1;
    }
    std::size_t chunked = 0;
    for (std::size_t i = 0; i < h.field_count(); ++i) {
      if (!equals_ignore_case(h.field_name(i), "transfer-encoding")) continue;
      std::string_view v = h.field_value(i);
      while (!v.empty()) {
        std::size_t comma = v.find(',');
        const std::string_view coding = trim_ows(v.substr(0, comma));
        v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
        if (coding.empty()) continue;
        if (!equals_ignore_case(coding, "chunked")) {
          fail(501, "unsupported transfer coding");
          return -1;
        }
        ++chunked;
      }
    }
    if (chunked != 1) {
      fail(400, "malformed Transfer-Encoding");
      return -1;
    }
  }
  return 0;
}

int RequestParser::on_chunk_extension_value_complete(llhttp_t* p) {
  // Pause so that execute() sees where llhttp is (see there).
  self(p).chunk_extension_paused_ = true;
  return HPE_PAUSED;
}

int RequestParser::on_message_complete(llhttp_t* p) {
  self(p).message_complete_ = true;
  return HPE_PAUSED;
}

}  // namespace cork
