// Compressor: compresses a file's representation once per coding and level, on a thread of its
// own, and keeps the result in memory so that every later request sends it like a small cached
// file (head and bytes in one send).
//
// No worker waits on a compression: get_or_schedule() answers at once with the copy, or with
// nothing and a job queued (once per copy, however many requests ask meanwhile); the request
// then gets the identity body (or a sidecar) with Vary. The thread runs at the lowest priority
// (nice 19), so compressing a large file does not take a core from the workers on a busy
// machine.
//
// Freshness: a copy is keyed by the file's identity (device, inode, size, modification time in
// nanoseconds), the coding and the level; the open-file cache hands out only current files, so
// a changed file has a new key and is never answered from a copy of its old bytes. The job reads
// the bytes from the cached file's descriptor and drops them when the file changed meanwhile.
// Copies of old versions are dropped least recently used first, within the memory limit.
//
// Bounds: bytes of copies kept (`memory`, each copy charged its bytes and kCopyOverhead, so that
// useless copies are dropped in turn too), jobs queued (`queue`), one file of at most
// CompressionPolicy::max_size (and never above `memory`) read at a time. Each bound refused is
// counted (the status page).
//
// Thread-safe: all public methods may be called from any thread. Neither copyable nor movable.
#pragma once

#include <sys/stat.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "http/coding.h"
#include "http/compression.h"

namespace cork {

struct CachedFile;

// One compressed copy. Immutable once published.
struct CompressedCopy {
  Coding coding = Coding::kIdentity;
  int level = 0;
  std::string bytes;
  std::string etag;  // strong; its own per coding, level and library version
  // The copy was no smaller than the file: serve the file, and do not compress it again.
  bool useless = false;
};

class Compressor {
 public:
  struct Limits {
    std::size_t memory = std::size_t{64} << 20;  // bytes of copies kept at most
    std::size_t queue = 64;                      // first compressions waiting at most
    std::size_t second_passes = 16;              // second passes waiting at most
  };
  // What the status page shows. Relaxed counters.
  struct Counters {
    std::atomic<std::uint64_t> hits{0};
    std::atomic<std::uint64_t> misses{0};       // a request found no copy (one was scheduled)
    std::atomic<std::uint64_t> compressed{0};   // copies made
    std::atomic<std::uint64_t> bytes_saved{0};  // file bytes minus copy bytes, per copy sent
    std::atomic<std::uint64_t> compress_us{0};  // time spent compressing
    std::atomic<std::uint64_t> dropped{0};      // jobs refused: the queue was full
    std::atomic<std::uint64_t> failed{0};  // unreadable, changed while read, or a library error
  };

  // What a copy costs besides its bytes (its map entry, its ETag), in the memory limit.
  static constexpr std::size_t kCopyOverhead = 256;

  explicit Compressor(Limits limits);
  Compressor(const Compressor&) = delete;
  Compressor& operator=(const Compressor&) = delete;
  ~Compressor();  // stops the thread after the job in progress; queued jobs are dropped

  // The copy of `file`'s identity representation in `coding` at `level`, or null after queueing
  // its making (unless it is queued or being made already, or the queue is full). Never waits
  // for a compression. `file` must be current (as the open-file cache hands it out) and at most
  // CompressionPolicy::max_size long. `second_level` above `level`: once the copy is made, a
  // second pass at that level replaces it when smaller; second passes run only while no first
  // compression waits.
  std::shared_ptr<const CompressedCopy> get_or_schedule(std::shared_ptr<const CachedFile> file,
                                                        Coding coding, int level,
                                                        int second_level = 0);
  // Counts a copy sent in place of `file_size` bytes of the file.
  void count_sent(std::uint64_t file_size, std::uint64_t copy_size);

  // Blocks until no job is queued or in progress (tests, and nothing else).
  void wait_idle();
  const Counters& counters() const { return counters_; }
  std::size_t memory_held() const;
  std::size_t copies() const;

 private:
  struct Key {
    dev_t device = 0;
    ino_t inode = 0;
    off_t size = 0;
    std::int64_t mtime_s = 0;
    std::int64_t mtime_ns = 0;
    // The change time too: a file rewritten in place at its old size with its modification time
    // set back (rsync --inplace -t, cp -p) has new bytes under an old mtime; no write can set
    // the change time back.
    std::int64_t ctime_s = 0;
    std::int64_t ctime_ns = 0;
    Coding coding = Coding::kIdentity;
    int level = 0;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const;
  };
  struct Slot {
    std::shared_ptr<const CompressedCopy> copy;  // null while its job is queued or running
    std::list<Key>::iterator recent;             // in recent_ once the copy is there
  };
  struct Job {
    Key key;  // key.level: the first pass's level, which names the copy
    std::shared_ptr<const CachedFile> file;
    int level = 0;         // the level this job compresses at
    int second_level = 0;  // a first pass: the second pass to queue after it (0 = none)
    bool second = false;   // a second pass: replaces the copy when smaller
    bool skip = false;     // a second pass whose copy is gone: make nothing
  };
  void loop();
  void run(Job& job);
  // Reads and compresses; null when it cannot (may throw std::bad_alloc).
  std::shared_ptr<CompressedCopy> make_copy(const Job& job);
  static std::size_t charge(const CompressedCopy& copy) {
    return copy.bytes.size() + kCopyOverhead;
  }
  // Reads the file's bytes; false when it cannot, or when it changed meanwhile.
  static bool read_file(const CachedFile& file, const Key& key, std::string& out);
  // Publishes a finished copy (or forgets the slot when a first pass made none), queues the
  // second pass `then` if any, and evicts the least recently used copies beyond the memory
  // limit. Takes the lock.
  void finish(const Job& job, std::shared_ptr<const CompressedCopy> copy, Job* then = nullptr);
  // finish()'s work with mutex_ held; may throw std::bad_alloc before it changes anything.
  void publish(const Job& job, std::shared_ptr<const CompressedCopy> copy, Job* then,
               std::vector<std::shared_ptr<const CompressedCopy>>& evicted, bool& queued);
  // Puts `copy` in `slot` (whose key is `key`), charging it, and evicts beyond the limit into
  // `evicted`. With mutex_ held.
  void place(const Key& key, Slot& slot, std::shared_ptr<const CompressedCopy> copy,
             std::vector<std::shared_ptr<const CompressedCopy>>& evicted);

  const Limits limits_;
  Counters counters_;
  mutable std::mutex mutex_;
  std::unordered_map<Key, Slot, KeyHash> slots_;  // guarded by mutex_
  std::list<Key> recent_;                         // guarded by mutex_: most recent first
  std::size_t memory_ = 0;                        // guarded by mutex_
  std::size_t pending_ = 0;                       // guarded by mutex_: jobs queued or running
  std::condition_variable idle_;                  // signalled when pending_ drops to 0
  std::deque<Job> first_;                         // guarded by mutex_: first passes, in order
  std::deque<Job> second_;                        // guarded by mutex_: run when first_ is empty
  std::condition_variable work_;                  // signalled when a job is queued or on stop
  std::atomic<bool> stopping_{false};             // written under mutex_
  std::thread thread_;  // last: started after everything it uses, joined in the destructor
};

}  // namespace cork
