// FileCache: the open-file cache. Maps a resolved request path to an open descriptor, its stat,
// its ETag, its precompressed siblings and, for small files, its bytes, so that a hit costs one
// stat() instead of open + fstat + sibling probes + close, and a small file goes out with the
// head in one send().
//
// Freshness: the cache watches (inotify) every directory on the path of each cached file. Any
// change in one of them (a file written, renamed, removed, its attributes changed, a symlink
// swapped) makes the reactor thread call handle_notifications() (server.cc watches the inotify
// descriptor through Reactor::watch), which bumps an epoch and so retires
// every entry at once; a hit costs no system call. Where a directory cannot be watched
// (inotify limits, no /proc), that entry falls back to one fstatat() per hit, rebuilding when
// the inode, size or mtime changed. Every entry is rebuilt at least every kRecheckMs (1 s).
// A directory already watched in the current epoch is not watched again on the next miss, and
// its names are scanned once (per epoch, at most every kRecheckMs) for .br/.gz/.zst siblings, so
// that a file in a directory without any costs no sibling probes. Lookups that find nothing to
// serve (404, a directory without its index) and rendered directory listings are kept the same way,
// in bounds of their own.
// Once the map is full, a file is admitted on its second miss within a while (seen_before), so
// that one requested once is served and closed without evicting another; its body, read for that
// one response, is not counted in the memory limit (its descriptor is, while it is open).
// Limits (FileCacheLimits): entries in the map, bytes of bodies kept in memory, and descriptors
// held by cached files, counted live against the descriptor budget's share (server/
// descriptor_budget.h), which every cache of successive configurations shares. When opening
// fails for want of descriptors the cache is shed and the open tried again.
// Safety: an entry is only ever built by lookup_file()/open_variant() (the symlink policy and
// RESOLVE_BENEATH apply); a hit serves the descriptor opened then, and only while the path
// still names the same inode.
//
// Thread-safe: entries are immutable once built and shared (shared_ptr<const CachedFile>) with
// the connections sending them; the map is split into shards, each with its own mutex. Several
// connections may sendfile() from one descriptor at once: sendfile with an offset pointer never
// moves the file position.
#pragma once

#include <sys/stat.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "http/target_path.h"
#include "server/allowance.h"
#include "server/config.h"
#include "server/static_file.h"
#include "server/unique_fd.h"

namespace cork {

// One representation of a file: the file itself or a precompressed sibling. Move-only.
struct FileRepresentation {
  UniqueFd file;
  struct stat info {};
  std::string etag;
  std::string body;  // the whole content when it is small (see FileCache::kSmallFileLimit)
  bool in_memory = false;
  // The representation fields of a 200 for it (Content-Type .. Cache-Control), formatted once.
  std::string fields_200;
};

// What one CachedFile holds against its cache's limits: its descriptors (counted in the budget's
// file-cache share) and the bytes of its in-memory bodies. Given back when the last holder (the
// cache, or a connection still sending it after an eviction) lets go. Neither copyable nor
// movable.
struct CacheCharge {
  CacheCharge() = default;
  CacheCharge(const CacheCharge&) = delete;
  CacheCharge& operator=(const CacheCharge&) = delete;
  ~CacheCharge() {
    if (descriptors) descriptors->give_back(fds);
    if (memory) memory->give_back(bytes);
  }
  std::shared_ptr<Allowance> descriptors;
  std::size_t fds = 0;
  std::shared_ptr<Allowance> memory;
  std::size_t bytes = 0;
};

// Immutable once published by the cache.
struct CachedFile {
  std::string path;  // relative to the root, after index resolution ("dir/index.html")
  std::string_view content_type;
  FileRepresentation identity;
  FileRepresentation br;  // present when br.file is open
  FileRepresentation gz;
  FileRepresentation zst;
  bool has_variants() const {
    return static_cast<bool>(br.file) || static_cast<bool>(gz.file) || static_cast<bool>(zst.file);
  }
  std::int64_t built_ms = 0;
  // The cache epoch the entry was built in; 0 when its directories are not all watched.
  std::uint64_t epoch = 0;
  CacheCharge charge;
};

// How much one FileCache may keep. Copyable value.
struct FileCacheLimits {
  std::size_t entries = 4096;                  // files in the map at most; 0 = cache nothing
  std::size_t memory = std::size_t{64} << 20;  // bytes of kept small files' bodies at most
  // Descriptors held by cached files at most, shared by every cache built under one descriptor
  // budget (server/descriptor_budget.h); null = a share of its own with no limit but `entries`.
  std::shared_ptr<Allowance> descriptors;
};

// Neither copyable nor movable (mutexes); owned by Settings, one per root.
class FileCache {
 public:
  // Files up to this size are also kept in memory and sent with the head in one send().
  // Measured with tests/bench: below ~16 KiB one send() beats cork + send + sendfile + uncork;
  // above it the copy into the socket costs more than it saves.
  static constexpr std::size_t kSmallFileLimit = 16 * 1024;
  static constexpr std::int64_t kRecheckMs = 1000;

  FileCache(int root_fd, SymlinkPolicy symlinks, bool precompressed, std::string cache_control,
            FileCacheLimits limits);
  FileCache(const FileCache&) = delete;
  FileCache& operator=(const FileCache&) = delete;

  // For a validated target: the file (status 200, `file` set) or why not (`miss`: 301, 403,
  // 404, ... exactly as lookup_file says). Safe to call from any thread.
  struct Result {
    std::shared_ptr<const CachedFile> file;
    FileLookup miss;
    bool hit = false;  // served from the cache (for the metrics)
    // Opening failed for want of descriptors (EMFILE, ENFILE): the cache was shed and the open
    // tried once more; `shed` entries were dropped (for the metrics and the log).
    bool descriptors_short = false;
    std::size_t shed = 0;
  };
  // Lookups that find nothing to serve (404, and 403 for a directory without its index file)
  // are kept too, while the directories on their path are watched, so that a repeated 404
  // costs no open: kMissesPerShard per shard at most, never evicting files. A name is kept
  // missing only when nothing is there, not even a dangling symlink (whose target's directory
  // nothing may watch).
  // Once the map is full, a file not in it is kept only on its second miss (seen_before).
  Result lookup(const Target& target, std::string_view index, std::int64_t now_ms);

  // A directory listing as rendered by http/directory_listing.h from read_directory()'s entries,
  // kept while the directory and those above it are watched (any change in it retires the page
  // at once) and at most kRecheckMs: what changes outside the directory, such as a
  // subdirectory's modification time or a symlink's target, shows within that interval.
  // `directory` is relative to the root ("" = the root), `url_path` the decoded request path
  // (the page's title and the key). kMaxListings pages of kMaxListingBytes at most, their bytes
  // counted in the memory limit; a page that does not fit is rendered for this request only.
  enum class ListingFormat : std::uint8_t { kHtml, kJson };
  struct Page {
    std::string body;
    CacheCharge charge;
  };
  struct ListingResult {
    std::shared_ptr<const Page> page;  // null when the directory could not be read
    int error = 0;                     // read_directory()'s errno then
    bool hit = false;
  };
  ListingResult listing(std::string_view directory, std::string_view url_path, ListingFormat format,
                        std::int64_t now_ms);

  std::size_t size() const;         // entries, for tests
  std::size_t misses_kept() const;  // cached 404s and directories without an index, for tests
  // Sibling opens tried (.br, .gz and .zst each count), for tests: a directory whose scan found no
  // sibling names costs none.
  std::uint64_t sibling_probes() const { return sibling_probes_.load(std::memory_order_relaxed); }
  // Drops every entry (connections sending one keep it until they finish); returns how many.
  // For when descriptors run out. Safe to call from any thread.
  std::size_t shed();
  const Allowance& descriptors() const { return *descriptors_; }
  const Allowance& memory() const { return *memory_; }

  // The inotify descriptor to wait on (readable when something changed), or -1 without one.
  int notification_fd() const { return inotify_.get(); }
  // Reads the pending notifications and, if there were any, retires every entry. Reactor
  // thread (or tests); safe while workers look up.
  void handle_notifications();

 private:
  // When something kept beside the files (a miss, a listing) was made: it is served while no
  // event has ended its epoch, and for kRecheckMs at most.
  struct Made {
    std::int64_t built_ms = 0;
    std::uint64_t epoch = 0;
    bool current(std::uint64_t epoch_now, std::int64_t now_ms) const {
      return epoch == epoch_now && now_ms - built_ms < kRecheckMs;
    }
  };
  // A lookup that found nothing to serve, as lookup_file() said it (its path included).
  struct CachedMiss {
    int status = 0;
    int error = 0;
    std::string path;
    bool directory_without_index = false;
    Made made;
  };
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, std::shared_ptr<const CachedFile>> entries;
    std::unordered_map<std::string, CachedMiss> misses;  // at most kMissesPerShard
  };
  struct CachedListing {
    std::shared_ptr<const Page> page;
    Made made;
  };

 public:
  static constexpr std::size_t kShards = 16;
  static constexpr std::size_t kMissesPerShard = 64;
  static constexpr std::size_t kMaxListings = 64;
  // A larger page (a directory of some thousands of entries) is rendered per request, so that
  // listings cannot crowd small files out of the memory limit.
  static constexpr std::size_t kMaxListingBytes = 256 * 1024;
  // A directory with more names than this is not scanned for siblings: each file in it is
  // probed for its .br/.gz/.zst instead.
  static constexpr std::size_t kMaxScannedNames = 4096;

 private:
  // Keeps a miss that lookup_file() just returned, when its directories are watched (and were
  // before the lookup began).
  void keep_miss(Shard& shard, const std::string& key, std::string_view index,
                 const FileLookup& found, std::int64_t now_ms, std::uint64_t epoch,
                 std::uint64_t stamp_before);
  // False when the directory `dir` (watched in `epoch`) holds no name a sibling could have, as
  // a scan of its names after its watch was in place found within the last kRecheckMs.
  // The sum of `count(shard)` over the shards, each under its lock.
  template <typename Count>
  std::size_t count_in_shards(Count count) const;
  bool may_have_siblings(std::string_view dir, std::uint64_t epoch, std::int64_t now_ms) const;

  // `keep`: the entry goes into the map (else it serves one request, and its representation
  // fields are not formatted ahead: the head is formatted whole for that request).
  std::shared_ptr<CachedFile> build(FileLookup& found, std::int64_t now_ms, std::uint64_t epoch,
                                    std::uint64_t stamp_before, bool keep) const;
  // Admission once the cache is full: whether a miss for the path hashing to `hash` was seen
  // recently (a direct-mapped table of hashes; a collision only admits or refuses early).
  // Records it otherwise. A file requested once then costs no eviction.
  bool seen_before(std::size_t hash);
  void load_small(FileRepresentation& rep, CacheCharge& charge) const;
  // Evicts entries, `home` shard first, until a new entry fits the limits. Called without any
  // shard lock held; false when nothing is left to evict and the limits are still passed.
  bool make_room(std::size_t home);
  bool still_current(const CachedFile& entry, std::int64_t now_ms) const;
  // Watches the root and every directory on the way to `path` (those not watched already since
  // before `stamp_before` in `epoch`); false if one cannot be watched. `added`: a watch was
  // added now, after the file was opened.
  // `scan`, when given: what the last scan of the names of the directory holding `path` found,
  // read from the record that vouched for its watch (scanned_ms -1 when none did).
  struct SiblingScan {
    std::int64_t scanned_ms = -1;
    bool siblings = true;
  };
  bool watch_directories(std::string_view path, std::uint64_t epoch, std::uint64_t stamp_before,
                         bool& added, SiblingScan* scan = nullptr) const;
  // Whether `directory` ("" = the root) and every directory above it were watched before
  // `stamp_before` in `epoch` (watching them now if not, for the next time): what a kept miss
  // or listing needs, since a watch added after the lookup cannot vouch for what it saw.
  bool watched_before(std::string_view directory, std::uint64_t epoch,
                      std::uint64_t stamp_before) const;

  const int root_fd_;  // borrowed from Settings, which owns both
  const SymlinkPolicy symlinks_;
  const bool precompressed_;
  const std::string cache_control_;
  const std::size_t max_entries_;
  const std::size_t seen_mask_;  // slots in seen_ - 1 (a power of two)
  const std::unique_ptr<std::atomic<std::uint64_t>[]> seen_;
  const std::shared_ptr<Allowance> descriptors_;
  const std::shared_ptr<Allowance> memory_;
  std::array<Shard, kShards> shards_;
  std::atomic<std::size_t> entries_{0};  // in the map, all shards
  UniqueFd inotify_;
  std::atomic<std::uint64_t> epoch_{1};
  // Directories already watched (relative to the root, "" = the root), so that a miss in a
  // watched directory costs no inotify_add_watch (each resolves its path through /proc). Valid
  // only within the epoch they were watched in: any event may mean a directory was replaced.
  struct WatchedDirectory {
    std::uint64_t epoch = 0;
    std::uint64_t stamp = 0;  // watch_clock_ when the watch was added
    // The last scan of its names for siblings (.br, .gz, .zst), made after the watch was added:
    // when (-1 = never) and whether it found one.
    std::int64_t scanned_ms = -1;
    bool siblings = true;
  };
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  static constexpr std::size_t kMaxKnownDirectories = 65536;
  mutable std::mutex watched_mutex_;
  mutable std::unordered_map<std::string, WatchedDirectory, StringHash, std::equal_to<>>
      watched_;  // guarded by watched_mutex_
  mutable std::atomic<std::uint64_t> watch_clock_{0};
  mutable std::atomic<std::uint64_t> sibling_probes_{0};
  mutable std::mutex listings_mutex_;
  std::unordered_map<std::string, CachedListing> listings_;  // guarded by listings_mutex_
};

}  // namespace cork
