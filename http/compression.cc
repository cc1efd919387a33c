// Whole-buffer compression with the three libraries Debian keeps for it. Each call is
// independent (no shared encoder state), so any thread may call them at once.
#include "http/compression.h"

#include <brotli/encode.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <climits>
#include <memory>

#include "http/ascii.h"

namespace cork {

namespace {

std::optional<std::string> gzip(int level, std::string_view input) {
  if (input.size() > UINT_MAX) return std::nullopt;  // zlib counts in uInt
  z_stream stream{};
  // windowBits 15 + 16: a gzip wrapper (RFC 1952), as "gzip" means (RFC 9110 8.4.1.3).
  if (deflateInit2(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return std::nullopt;
  }
  std::string out(deflateBound(&stream, static_cast<uLong>(input.size())) + 32, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  stream.avail_in = static_cast<uInt>(input.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int status = deflate(&stream, Z_FINISH);
  const uLong produced = stream.total_out;
  deflateEnd(&stream);
  if (status != Z_STREAM_END) return std::nullopt;
  out.resize(produced);
  out.shrink_to_fit();  // the bound is about the input's size: keep what the copy needs
  return out;
}

std::optional<std::string> brotli(int level, std::string_view input) {
  const std::size_t bound = BrotliEncoderMaxCompressedSize(input.size());
  if (bound == 0) return std::nullopt;  // too large for one call
  std::string out(bound, '\0');
  std::size_t size = out.size();
  if (!BrotliEncoderCompress(level, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, input.size(),
                             reinterpret_cast<const std::uint8_t*>(input.data()), &size,
                             reinterpret_cast<std::uint8_t*>(out.data()))) {
    return std::nullopt;
  }
  out.resize(size);
  out.shrink_to_fit();
  return out;
}

// Browsers decode zstd with a window of at most 8 MiB (RFC 9659 3: "zstd" as a content coding
// limits Window_Size to 8 MB); levels 20-22 on inputs above 8 MiB would choose a larger one.
constexpr int kMaxZstdWindowLog = 23;

std::optional<std::string> zstd(int level, std::string_view input) {
  struct FreeContext {
    void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
  };
  const std::unique_ptr<ZSTD_CCtx, FreeContext> context(ZSTD_createCCtx());
  if (!context) return std::nullopt;
  // Below 8 MiB of input the window never exceeds the input; above, it is set to 8 MiB (also
  // for the low levels whose own window is smaller: any decoder takes 8 MiB).
  const bool large = input.size() > (std::size_t{1} << kMaxZstdWindowLog);
  if (ZSTD_isError(ZSTD_CCtx_setParameter(context.get(), ZSTD_c_compressionLevel, level)) ||
      (large &&
       ZSTD_isError(ZSTD_CCtx_setParameter(context.get(), ZSTD_c_windowLog, kMaxZstdWindowLog)))) {
    return std::nullopt;
  }
  std::string out(ZSTD_compressBound(input.size()), '\0');
  const std::size_t size =
      ZSTD_compress2(context.get(), out.data(), out.size(), input.data(), input.size());
  if (ZSTD_isError(size)) return std::nullopt;
  out.resize(size);
  out.shrink_to_fit();
  return out;
}

}  // namespace

LevelRange level_range(Coding coding) {
  switch (coding) {
    case Coding::kBrotli:
      return {BROTLI_MIN_QUALITY, BROTLI_MAX_QUALITY};
    case Coding::kGzip:
      return {1, 9};
    case Coding::kZstd:
      return {1, ZSTD_maxCLevel()};
    case Coding::kIdentity:
      break;
  }
  return {};
}

std::optional<std::string> compress(Coding coding, int level, std::string_view input) {
  const LevelRange range = level_range(coding);
  if (level < range.min || level > range.max) return std::nullopt;
  switch (coding) {
    case Coding::kBrotli:
      return brotli(level, input);
    case Coding::kGzip:
      return gzip(level, input);
    case Coding::kZstd:
      return zstd(level, input);
    case Coding::kIdentity:
      break;
  }
  return std::nullopt;
}

std::string codec_version(Coding coding) {
  switch (coding) {
    case Coding::kBrotli: {
      const std::uint32_t v = BrotliEncoderVersion();  // 0xMMMmmmppp
      return "brotli-" + std::to_string(v >> 24) + "." + std::to_string((v >> 12) & 0xfff) + "." +
             std::to_string(v & 0xfff);
    }
    case Coding::kGzip:
      return std::string("zlib-") + zlibVersion();
    case Coding::kZstd:
      return std::string("zstd-") + ZSTD_versionString();
    case Coding::kIdentity:
      break;
  }
  return {};
}

bool CompressionPolicy::offers(Coding coding) const {
  return enabled && std::find(codings.begin(), codings.end(), coding) != codings.end();
}

int CompressionPolicy::level(Coding coding) const {
  switch (coding) {
    case Coding::kBrotli:
      return level_br;
    case Coding::kZstd:
      return level_zstd;
    case Coding::kGzip:
      return level_gzip;
    case Coding::kIdentity:
      break;
  }
  return 0;
}

int CompressionPolicy::second_level(Coding coding) const {
  if (!second_pass) return 0;
  const int strongest = coding == Coding::kBrotli ? 11
                        : coding == Coding::kZstd ? 19
                        : coding == Coding::kGzip ? 9
                                                  : 0;
  return strongest > level(coding) ? strongest : 0;
}

bool type_matches(std::string_view content_type, const std::vector<std::string>& patterns) {
  const std::string_view type = trim_ows(content_type.substr(0, content_type.find(';')));
  const std::size_t slash = type.find('/');
  if (slash == std::string_view::npos) return false;
  for (const std::string& pattern : patterns) {
    if (pattern.size() >= 2 && pattern.ends_with("/*")) {
      if (equals_ignore_case(type.substr(0, slash + 1),
                             std::string_view(pattern).substr(0, pattern.size() - 1))) {
        return true;
      }
    } else if (equals_ignore_case(type, pattern)) {
      return true;
    }
  }
  return false;
}

}  // namespace cork
