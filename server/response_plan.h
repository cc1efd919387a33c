// ResponsePlan: a response decided but not yet sent, as a plain value. The handler makes it,
// the sender puts it on the wire, the connection reads its keep-alive decision. It owns or
// keeps alive everything it points at: the formatted head, an inline body (owned, static, or
// borrowed from the cache entry or page it holds), and the file pieces sent with sendfile().
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/compressor.h"
#include "server/file_cache.h"

namespace cork {

// Move-only in practice (holds a shared cache entry and strings); copyable but never copied.
struct ResponsePlan {
  // Some bytes from memory (a multipart part head) followed by a range of the file.
  struct FilePiece {
    std::string bytes;
    off_t offset = 0;
    std::uint64_t length = 0;
  };

  // What the connection does with the request's body before it sends the plan.
  enum class Body : std::uint8_t {
    kNone,     // the request has none
    kDiscard,  // read it to its end and throw it away first (bounded: server/connection.cc)
    kUnread,   // never read it: the plan goes out at once and closes the connection
  };

  int status = 0;
  bool keep_alive = true;  // false: the connection closes after this response
  Body request_body = Body::kNone;
  // The request asked for 100 Continue and the plan discards its body: the connection sends the
  // interim response before reading on. Never set with Body::kUnread (RFC 9110 10.1.1).
  bool expect_continue = false;
  std::string head;  // status line, fields and the empty line
  // The inline body sent right after the head (in the same system call): owned_body when not
  // empty, else borrowed_body (static storage or bytes of `file`).
  std::string owned_body;
  std::string_view borrowed_body;
  // The file the pieces come from. Holding the entry keeps its descriptor open (and its
  // in-memory bytes alive) until the response is sent.
  std::shared_ptr<const CachedFile> file;
  // Keeps borrowed_body alive when it is a page the cache holds (a directory listing).
  std::shared_ptr<const FileCache::Page> page;
  // Keeps borrowed_body alive when it is (part of) a copy compressed on the fly.
  std::shared_ptr<const CompressedCopy> compressed;
  int file_fd = -1;
  std::vector<FilePiece> pieces;  // sent in order after the inline body
  // What the access log and the metrics count: the content bytes the plan sends.
  std::uint64_t body_length() const {
    std::uint64_t n = inline_body().size();
    for (const FilePiece& p : pieces)
      n += p.bytes.size() + p.length;
    return n;
  }
  std::string_view inline_body() const {
    return owned_body.empty() ? borrowed_body : std::string_view(owned_body);
  }
};

}  // namespace cork
