// FileCache: build entries through lookup_file(), serve them while one fstatat() says the path
// still names the same file.
#include "server/file_cache.h"

#include <fcntl.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <functional>
#include <vector>

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

// The directory holding `path` ("" = the root).
std::string_view parent_directory(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

// The precompressed siblings looked for beside a file: suffix, representation, the ETag's
// variant (kept as it was for .br and .gz, so that their tags survive an upgrade) and the
// Content-Encoding.
struct Sibling {
  std::string_view suffix;
  FileRepresentation CachedFile::*rep;
  std::string_view etag_variant;
  std::string_view encoding;
};
constexpr Sibling kSiblings[] = {{".br", &CachedFile::br, "br", "br"},
                                 {".gz", &CachedFile::gz, "gz", "gzip"},
                                 {".zst", &CachedFile::zst, "zst", "zstd"}};

void set_etag(FileRepresentation& rep, std::string_view variant) {
  rep.etag = make_etag(rep.info.st_mtim.tv_sec, rep.info.st_mtim.tv_nsec,
                       static_cast<std::uint64_t>(rep.info.st_size), variant);
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
                     std::string cache_control, FileCacheLimits limits)
    : root_fd_(root_fd),
      symlinks_(symlinks),
      precompressed_(precompressed),
      cache_control_(std::move(cache_control)),
      max_entries_(limits.entries),
      // Twice as many slots as entries: a miss remembered for about as long as two fills.
      seen_mask_(std::bit_ceil(std::clamp<std::size_t>(2 * limits.entries, 16, 1 << 20)) - 1),
      seen_(std::make_unique<std::atomic<std::uint64_t>[]>(seen_mask_ + 1)),
      descriptors_(limits.descriptors ? std::move(limits.descriptors)
                                      : std::make_shared<Allowance>(SIZE_MAX)),
      memory_(std::make_shared<Allowance>(limits.memory)),
      // Without inotify (limits reached) every entry is checked with fstatat() instead.
      inotify_(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {}

void FileCache::load_small(FileRepresentation& rep, CacheCharge& charge) const {
  // Reads a small file whole (pread: the shared descriptor's position is never used), while
  // the memory limit allows; otherwise it goes out with sendfile like a large one.
  const auto size = static_cast<std::size_t>(rep.info.st_size);
  if (size > kSmallFileLimit || (charge.memory && charge.memory->would_exceed(size))) return;
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
    std::string().swap(rep.body);
    return;
  }
  rep.in_memory = true;
  if (!charge.memory) return;  // not kept: see build()
  charge.memory->take(size);
  charge.bytes += size;
}

bool FileCache::watch_directories(std::string_view path, std::uint64_t epoch,
                                  std::uint64_t stamp_before, bool& added,
                                  SiblingScan* scan) const {
  added = false;
  if (!inotify_) return false;
  // The changes that can make a cached entry wrong; reads (IN_ACCESS, IN_OPEN) are not.
  constexpr std::uint32_t kMask = IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM |
                                  IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_DELETE_SELF |
                                  IN_MOVE_SELF;
  auto known_since = [&](std::string_view dir) {
    auto it = watched_.find(dir);
    return it != watched_.end() && it->second.epoch == epoch && it->second.stamp <= stamp_before;
  };
  // The deepest directory known is enough: it was recorded only after every directory above it
  // was watched (or known) in the same epoch, and a watch stays until an event ends the epoch.
  {
    std::lock_guard lock(watched_mutex_);
    auto it = watched_.find(parent_directory(path));
    if (it != watched_.end() && it->second.epoch == epoch && it->second.stamp <= stamp_before) {
      // The same record says what the last scan of the directory's names found: the caller
      // needs no second lookup (and lock) for it.
      if (scan) *scan = {it->second.scanned_ms, it->second.siblings};
      return true;
    }
  }
  // The root is known by its descriptor only: name it through /proc.
  const std::string proc_root = fmt::format("/proc/self/fd/{}", root_fd_);
  std::size_t end = 0;  // the directory is path[0, end): "" = the root
  for (;;) {
    const std::string_view dir = path.substr(0, end);
    // A directory whose watch was in place before this entry's file was opened, with no event
    // since: a change after the open makes an event, which retires the entry. Anything else
    // (a directory replaced since, a watch added meanwhile) is watched again: adding a watch
    // that exists is harmless, and the kernel resolves the path as it is now.
    bool known = false;
    {
      std::lock_guard lock(watched_mutex_);
      known = known_since(dir);
    }
    if (!known) {
      std::string full = proc_root;
      if (!dir.empty()) {
        full += '/';
        full.append(dir);
      }
      if (::inotify_add_watch(inotify_.get(), full.c_str(), kMask) < 0) return false;
      added = true;
      const std::uint64_t stamp = watch_clock_.fetch_add(1, std::memory_order_acq_rel) + 1;
      std::lock_guard lock(watched_mutex_);
      // Bounded: a site with more directories than this re-adds watches, which only costs time.
      if (watched_.size() >= kMaxKnownDirectories) watched_.clear();
      watched_.insert_or_assign(std::string(dir), WatchedDirectory{epoch, stamp});
    }
    const std::size_t slash = path.find('/', end == 0 ? 0 : end + 1);
    if (slash == std::string_view::npos) return true;  // the rest is the file's own name
    end = slash;
  }
}

bool FileCache::watched_before(std::string_view directory, std::uint64_t epoch,
                               std::uint64_t stamp_before) const {
  // watch_directories() watches the directories holding a path's last component: name one
  // inside `directory` ("" and "/" would both stand for the root's own component).
  std::string inside(directory);
  if (!inside.empty()) inside += '/';
  bool added = false;
  return watch_directories(inside, epoch, stamp_before, added) && !added;
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

bool FileCache::seen_before(std::size_t hash) {
  const std::uint64_t tag = static_cast<std::uint64_t>(hash) | 1;  // 0 = an empty slot
  std::atomic<std::uint64_t>& slot =
      seen_[(hash / kShards) & seen_mask_];  // hash % kShards: the shard
  if (slot.load(std::memory_order_relaxed) == tag) return true;
  slot.store(tag, std::memory_order_relaxed);
  return false;
}

std::shared_ptr<CachedFile> FileCache::build(FileLookup& found, std::int64_t now_ms,
                                             std::uint64_t epoch, std::uint64_t stamp_before,
                                             bool keep) const {
  auto entry = std::make_shared<CachedFile>();
  CacheCharge& charge = entry->charge;
  charge.descriptors = descriptors_;
  // A file not kept serves one response: its body is not the cache's memory (bounded per
  // connection by kSmallFileLimit per representation), and skipping the shared counter saves
  // two atomic operations on a line every worker writes (tests/bench/PERFORMANCE.md).
  if (keep) charge.memory = memory_;
  // Counted as soon as they are open, so that a concurrent make_room() sees them.
  auto count_descriptor = [&] {
    descriptors_->take(1);
    ++charge.fds;
  };
  entry->path = std::move(found.path);
  entry->content_type = mime_type_for(entry->path);
  entry->identity.file = std::move(found.file);
  entry->identity.info = found.info;
  count_descriptor();
  set_etag(entry->identity, {});
  load_small(entry->identity, charge);
  entry->built_ms = now_ms;
  // The epoch read before the lookup: a change during the build retires the entry at once.
  bool added = false;
  SiblingScan scan;
  entry->epoch = watch_directories(entry->path, epoch, stamp_before, added, &scan) ? epoch : 0;
  // Siblings are looked for once the directories are watched, so that one created after the
  // scan below retires the entry. Without a watch every file is probed.
  const bool scan_fresh = scan.scanned_ms >= 0 && now_ms - scan.scanned_ms < kRecheckMs;
  if (precompressed_ &&
      (entry->epoch == 0 ||
       (scan_fresh ? scan.siblings
                   : may_have_siblings(parent_directory(entry->path), epoch, now_ms)))) {
    for (const Sibling& sibling : kSiblings) {
      sibling_probes_.fetch_add(1, std::memory_order_relaxed);
      Variant v;
      if (!open_variant(root_fd_, entry->path, sibling.suffix, found.info, symlinks_, v)) continue;
      FileRepresentation& rep = entry.get()->*sibling.rep;
      rep.file = std::move(v.file);
      rep.info = v.info;
      count_descriptor();
      set_etag(rep, sibling.etag_variant);
      load_small(rep, charge);
    }
  }
  if (keep) {
    format_fields(entry->identity, *entry, {}, cache_control_);
    for (const Sibling& sibling : kSiblings)
      format_fields(entry.get()->*sibling.rep, *entry, sibling.encoding, cache_control_);
  }
  if (entry->epoch != 0 && added) {
    // A change between the open and a watch added after it produced no event: compare once
    // more. (Directories watched before the open need no check: see watch_directories.)
    struct stat now {};
    if (::fstatat(root_fd_, entry->path.c_str(), &now, 0) != 0 ||
        !same_file(now, entry->identity.info)) {
      entry->epoch = 0;
    }
  }
  return entry;
}

bool FileCache::may_have_siblings(std::string_view dir, std::uint64_t epoch,
                                  std::int64_t now_ms) const {
  {
    std::lock_guard lock(watched_mutex_);
    auto it = watched_.find(dir);
    if (it == watched_.end() || it->second.epoch != epoch) return true;
    const WatchedDirectory& w = it->second;
    if (w.scanned_ms >= 0 && now_ms - w.scanned_ms < kRecheckMs) return w.siblings;
  }
  // The watch is in place (this epoch's record says so): a sibling created after this scan
  // makes an event, which starts a new epoch.
  const bool found = directory_may_hold_suffixes(root_fd_, dir, symlinks_, {".br", ".gz", ".zst"},
                                                 kMaxScannedNames);
  std::lock_guard lock(watched_mutex_);
  auto it = watched_.find(dir);
  if (it != watched_.end() && it->second.epoch == epoch) {
    it->second.scanned_ms = now_ms;
    it->second.siblings = found;
  }
  return found;
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
  const std::size_t hash = std::hash<std::string>{}(target.path);
  const std::size_t home = hash % kShards;
  Shard& shard = shards_[home];
  std::shared_ptr<const CachedFile> cached;
  Result result;
  const std::uint64_t epoch = epoch_.load(std::memory_order_acquire);
  {
    std::lock_guard lock(shard.mutex);
    auto it = shard.entries.find(target.path);
    if (it != shard.entries.end()) {
      cached = it->second;
    } else if (auto m = shard.misses.find(target.path); m != shard.misses.end()) {
      const CachedMiss& miss = m->second;
      if (miss.made.current(epoch, now_ms)) {
        result.miss.status = miss.status;
        result.miss.error = miss.error;
        result.miss.path = miss.path;
        result.miss.directory_without_index = miss.directory_without_index;
        result.hit = true;
        return result;
      }
      shard.misses.erase(m);
    }
  }
  if (cached && still_current(*cached, now_ms)) {
    result.file = std::move(cached);
    result.hit = true;
    return result;
  }
  const std::uint64_t stamp_before = watch_clock_.load(std::memory_order_acquire);
  result.miss = lookup_file(root_fd_, target, index, symlinks_);
  if (result.miss.error == EMFILE || result.miss.error == ENFILE) {
    // Out of descriptors (connections beyond the budget's reckoning, or another process when
    // ENFILE): the cache gives back what it holds rather than the request failing.
    result.descriptors_short = true;
    result.shed = shed();
    result.miss = lookup_file(root_fd_, target, index, symlinks_);
  }
  if (result.miss.status != 200) {
    if (cached) {
      std::lock_guard lock(shard.mutex);
      if (shard.entries.erase(target.path) != 0) entries_.fetch_sub(1, std::memory_order_relaxed);
    }
    keep_miss(shard, target.path, index, result.miss, now_ms, epoch, stamp_before);
    return result;
  }
  const bool full = entries_.load(std::memory_order_relaxed) >= max_entries_;
  // A file whose entry is in the map (retired by an event or the recheck) was admitted before:
  // a directory change must not cost the hot files a second miss each.
  const bool keep = max_entries_ > 0 && (!full || cached || seen_before(hash));
  std::shared_ptr<CachedFile> built = build(result.miss, now_ms, epoch, stamp_before, keep);
  result.file = built;
  // Not admitted, or without room (every descriptor of the share is held by files being sent):
  // the file serves this request only and is closed when its response ends.
  if (!keep || !make_room(home)) return result;
  std::lock_guard lock(shard.mutex);
  auto [it, inserted] = shard.entries.insert_or_assign(target.path, std::move(built));
  if (inserted) entries_.fetch_add(1, std::memory_order_relaxed);
  return result;
}

void FileCache::keep_miss(Shard& shard, const std::string& key, std::string_view index,
                          const FileLookup& found, std::int64_t now_ms, std::uint64_t epoch,
                          std::uint64_t stamp_before) {
  // Only what stays true until something on the path changes: a name that is not there (or
  // names a file where a directory was asked for), a directory without its index. Not
  // permissions, symlinks refused, redirects (their Location carries the query) or errors.
  const bool missing = found.status == 404;
  if (!(missing || found.directory_without_index) || max_entries_ == 0) return;
  // The directories that hold the missing name (a directory without an index: that directory
  // too) must have been watched before the lookup began.
  const std::string_view holder =
      found.directory_without_index ? std::string_view(found.path) : parent_directory(found.path);
  if (!watched_before(holder, epoch, stamp_before)) return;
  // The missing name itself must be absent: a dangling symlink there would start to resolve
  // when its target appears, in a directory nothing watches.
  std::string name = found.path;
  if (found.directory_without_index) {
    if (!name.empty()) name += '/';
    name.append(index);
  }
  struct stat info {};
  if (!name.empty() && ::fstatat(root_fd_, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) == 0) return;
  CachedMiss miss;
  miss.status = found.status;
  miss.error = found.error;
  miss.path = found.path;
  miss.directory_without_index = found.directory_without_index;
  miss.made = {now_ms, epoch};
  std::lock_guard lock(shard.mutex);
  // Bounded on its own: a flood of missing names never evicts a file.
  if (shard.misses.size() >= kMissesPerShard) shard.misses.erase(shard.misses.begin());
  shard.misses.insert_or_assign(key, std::move(miss));
}

FileCache::ListingResult FileCache::listing(std::string_view directory, std::string_view url_path,
                                            ListingFormat format, std::int64_t now_ms) {
  std::string key(url_path);
  key += format == ListingFormat::kJson ? '\x01' : '\x00';
  ListingResult result;
  const std::uint64_t epoch = epoch_.load(std::memory_order_acquire);
  {
    std::lock_guard lock(listings_mutex_);
    auto it = listings_.find(key);
    if (it != listings_.end()) {
      if (it->second.made.current(epoch, now_ms)) {
        result.page = it->second.page;
        result.hit = true;
        return result;
      }
      listings_.erase(it);
    }
  }
  const std::uint64_t stamp_before = watch_clock_.load(std::memory_order_acquire);
  std::vector<ListingEntry> entries;
  result.error = read_directory(root_fd_, directory, symlinks_, entries);
  if (result.error != 0) return result;
  auto page = std::make_shared<Page>();
  page->body = format == ListingFormat::kJson ? render_listing_json(url_path, std::move(entries))
                                              : render_listing_html(url_path, std::move(entries));
  result.page = page;
  if (max_entries_ == 0 || page->body.size() > kMaxListingBytes ||
      !watched_before(directory, epoch, stamp_before) || memory_->would_exceed(page->body.size())) {
    return result;  // this request only
  }
  memory_->take(page->body.size());
  page->charge.memory = memory_;
  page->charge.bytes = page->body.size();
  CachedListing kept{std::move(page), {now_ms, epoch}};
  std::lock_guard lock(listings_mutex_);
  if (listings_.size() >= kMaxListings) {
    // Pages of past epochs first: they can never be served again.
    std::erase_if(listings_, [epoch](const auto& kv) { return kv.second.made.epoch != epoch; });
    if (listings_.size() >= kMaxListings) listings_.erase(listings_.begin());
  }
  listings_.insert_or_assign(std::move(key), std::move(kept));
  return result;
}

bool FileCache::make_room(std::size_t home) {
  // Entries already in the map count against max_entries_; the new one's descriptors are
  // already counted in the allowance. Evicted entries are destroyed (their descriptors closed)
  // after the shard lock is released; those this thread holds alone are counted as given back
  // already (`releasing`), since nothing can take a new reference once they left the map.
  std::vector<std::shared_ptr<const CachedFile>> evicted;
  std::size_t releasing = 0;
  auto over = [&] {
    const std::size_t held = descriptors_->held();  // the limit may be SIZE_MAX: no sums
    return entries_.load(std::memory_order_relaxed) >= max_entries_ ||
           (held > releasing && held - releasing > descriptors_->limit());
  };
  if (max_entries_ == 0) return false;
  for (std::size_t i = 0; i < kShards && over(); ++i) {
    Shard& shard = shards_[(home + i) % kShards];
    std::lock_guard lock(shard.mutex);
    // An arbitrary entry (connections sending it keep their reference).
    while (over() && !shard.entries.empty()) {
      auto first = shard.entries.begin();
      if (first->second.use_count() == 1) releasing += first->second->charge.fds;
      evicted.push_back(std::move(first->second));
      shard.entries.erase(first);
      entries_.fetch_sub(1, std::memory_order_relaxed);
    }
  }
  return !over();
}

std::size_t FileCache::shed() {
  std::size_t dropped = 0;
  for (Shard& shard : shards_) {
    std::unordered_map<std::string, std::shared_ptr<const CachedFile>> gone;
    {
      std::lock_guard lock(shard.mutex);
      gone.swap(shard.entries);
      shard.misses.clear();
    }
    dropped += gone.size();
    entries_.fetch_sub(gone.size(), std::memory_order_relaxed);
    // `gone` closes its descriptors here, outside the lock.
  }
  std::unordered_map<std::string, CachedListing> pages;
  {
    std::lock_guard lock(listings_mutex_);
    pages.swap(listings_);
  }
  return dropped;
}

std::size_t FileCache::size() const {
  return count_in_shards([](const Shard& shard) { return shard.entries.size(); });
}

std::size_t FileCache::misses_kept() const {
  return count_in_shards([](const Shard& shard) { return shard.misses.size(); });
}

template <typename Count>
std::size_t FileCache::count_in_shards(Count count) const {
  std::size_t total = 0;
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    total += count(shard);
  }
  return total;
}

}  // namespace cork
