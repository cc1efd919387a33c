// FileCache: build entries through lookup_file(), serve them while one fstatat() says the path
// still names the same file.
#include "server/file_cache.h"

#include <fcntl.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <functional>

#include <fmt/format.h>

#include "http/entity_tag.h"
#include "http/mime_types.h"
#include "http/response_head.h"
#include "server/io.h"

namespace cork {

namespace {

bool same_file(const struct stat& a, const struct stat& b) {
  return a.st_ino == b.st_ino && a.st_dev == b.st_dev && a.st_size == b.st_size &&
         a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

// Reads a small file whole (pread: the shared descriptor's position is never used).
void load_small(FileRepresentation& rep) {
  const auto size = static_cast<std::size_t>(rep.info.st_size);
  if (size > FileCache::kSmallFileLimit) return;
  rep.body.resize(size);
  std::size_t done = 0;
  while (done < size) {
    const IoResult r =
        pread_some(rep.file.get(), rep.body.data() + done, size - done, static_cast<off_t>(done));
    if (r.ok()) {
      done += r.bytes;
      continue;
    }
    // Shrunk meanwhile or unreadable: serve it with sendfile, which notices truncation.
    rep.body.clear();
    return;
  }
  rep.in_memory = true;
}

void finish(FileRepresentation& rep, std::string_view variant) {
  rep.etag = make_etag(rep.info.st_mtim.tv_sec, rep.info.st_mtim.tv_nsec,
                       static_cast<std::uint64_t>(rep.info.st_size), variant);
  load_small(rep);
}

void format_fields(FileRepresentation& rep, const CachedFile& entry, std::string_view encoding,
                   std::string_view cache_control) {
  if (!rep.file) return;
  ResponseHead head;
  head.content_type = entry.content_type;
  head.content_length = static_cast<std::uint64_t>(rep.info.st_size);
  head.content_encoding = encoding;
  head.last_modified = rep.info.st_mtime;
  head.etag = rep.etag;
  head.accept_ranges = true;
  head.vary = entry.has_variants() ? "Accept-Encoding" : "";
  head.cache_control = cache_control;
  fmt::memory_buffer out;
  append_representation_fields(out, head);
  rep.fields_200.assign(out.data(), out.size());
}

}  // namespace

FileCache::FileCache(int root_fd, SymlinkPolicy symlinks, bool precompressed,
                     std::string cache_control, std::size_t max_entries)
    : root_fd_(root_fd),
      symlinks_(symlinks),
      precompressed_(precompressed),
      cache_control_(std::move(cache_control)),
      max_per_shard_(max_entries / kShards + 1),
      // Without inotify (limits reached) every entry is checked with fstatat() instead.
      inotify_(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {}

bool FileCache::watch_directories(std::string_view path) const {
  if (!inotify_) return false;
  // The changes that can make a cached entry wrong; reads (IN_ACCESS, IN_OPEN) are not.
  constexpr std::uint32_t kMask = IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM |
                                  IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_DELETE_SELF |
                                  IN_MOVE_SELF;
  // The root is known by its descriptor only: name it through /proc.
  std::string dir = fmt::format("/proc/self/fd/{}", root_fd_);
  std::size_t start = 0;
  for (;;) {
    if (::inotify_add_watch(inotify_.get(), dir.c_str(), kMask) < 0) return false;
    const std::size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) return true;  // the rest is the file's own name
    dir += '/';
    dir.append(path.substr(start, slash - start));
    start = slash + 1;
  }
}

void FileCache::handle_notifications() {
  if (!inotify_) return;
  alignas(inotify_event) char buffer[16 * 1024];
  bool changed = false;
  for (;;) {
    if (!read_some(inotify_.get(), buffer, sizeof buffer).ok()) break;  // EAGAIN: drained
    changed = true;  // any event, IN_Q_OVERFLOW included, retires everything
  }
  if (changed) epoch_.fetch_add(1, std::memory_order_acq_rel);
}

std::shared_ptr<const CachedFile> FileCache::build(FileLookup& found, std::int64_t now_ms,
                                                   std::uint64_t epoch) const {
  auto entry = std::make_shared<CachedFile>();
  entry->path = found.path;
  entry->content_type = mime_type_for(found.path);
  entry->identity.file = std::move(found.file);
  entry->identity.info = found.info;
  finish(entry->identity, {});
  if (precompressed_) {
    Variant v;
    if (open_variant(root_fd_, found.path, ".br", found.info, symlinks_, v)) {
      entry->br.file = std::move(v.file);
      entry->br.info = v.info;
      finish(entry->br, "br");
    }
    Variant g;
    if (open_variant(root_fd_, found.path, ".gz", found.info, symlinks_, g)) {
      entry->gz.file = std::move(g.file);
      entry->gz.info = g.info;
      finish(entry->gz, "gz");
    }
  }
  format_fields(entry->identity, *entry, {}, cache_control_);
  format_fields(entry->br, *entry, "br", cache_control_);
  format_fields(entry->gz, *entry, "gzip", cache_control_);
  entry->built_ms = now_ms;
  // The epoch read before the lookup: a change during the build retires the entry at once.
  entry->epoch = watch_directories(entry->path) ? epoch : 0;
  if (entry->epoch != 0) {
    // A change between the open and the watch produced no event: compare once more.
    struct stat now {};
    if (::fstatat(root_fd_, entry->path.c_str(), &now, 0) != 0 ||
        !same_file(now, entry->identity.info)) {
      entry->epoch = 0;
    }
  }
  return entry;
}

bool FileCache::still_current(const CachedFile& entry, std::int64_t now_ms) const {
  if (now_ms - entry.built_ms >= kRecheckMs) return false;
  if (entry.epoch != 0) return entry.epoch == epoch_.load(std::memory_order_acquire);
  struct stat now {};
  if (::fstatat(root_fd_, entry.path.c_str(), &now, 0) != 0) return false;
  return same_file(now, entry.identity.info);
}

FileCache::Result FileCache::lookup(const Target& target, std::string_view index,
                                    std::int64_t now_ms) {
  Shard& shard = shards_[std::hash<std::string>{}(target.path) % kShards];
  std::shared_ptr<const CachedFile> cached;
  {
    std::lock_guard lock(shard.mutex);
    auto it = shard.entries.find(target.path);
    if (it != shard.entries.end()) cached = it->second;
  }
  Result result;
  if (cached && still_current(*cached, now_ms)) {
    result.file = std::move(cached);
    result.hit = true;
    return result;
  }
  const std::uint64_t epoch = epoch_.load(std::memory_order_acquire);
  result.miss = lookup_file(root_fd_, target, index, symlinks_);
  if (result.miss.status != 200) {
    if (cached) {
      std::lock_guard lock(shard.mutex);
      shard.entries.erase(target.path);
    }
    return result;
  }
  result.file = build(result.miss, now_ms, epoch);
  std::lock_guard lock(shard.mutex);
  if (shard.entries.size() >= max_per_shard_ && !shard.entries.count(target.path)) {
    // Full: drop an arbitrary entry (connections sending it keep their reference).
    shard.entries.erase(shard.entries.begin());
  }
  shard.entries[target.path] = result.file;
  return result;
}

std::size_t FileCache::size() const {
  std::size_t total = 0;
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    total += shard.entries.size();
  }
  return total;
}

}  // namespace cork
