// Compressor: the copies' map, the job queue and the low-priority thread that makes copies.
#include "server/compressor.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <functional>

#include "http/compression.h"
#include "http/entity_tag.h"
#include "server/file_cache.h"
#include "server/io.h"

namespace cork {

namespace {

// FNV-1a: a short, stable tag of the library version for the ETag (RFC 9110 8.8.1: another
// library version may make other bytes, which must not share the tag).
std::uint32_t fnv1a(std::string_view s) {
  std::uint32_t h = 2166136261u;
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  return h;
}

std::string copy_variant(Coding coding, int level, std::uint64_t file_size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string variant(coding_name(coding));
  variant += '.';
  variant += std::to_string(level);
  variant += '.';
  const std::uint32_t tag = fnv1a(codec_version(coding));
  for (int shift = 28; shift >= 0; shift -= 4)
    variant += kHex[(tag >> shift) & 0xf];
  variant += '.';
  char size_hex[17];
  const auto end = std::to_chars(size_hex, size_hex + sizeof size_hex, file_size, 16).ptr;
  variant.append(size_hex, end);
  return variant;
}

}  // namespace

std::size_t Compressor::KeyHash::operator()(const Key& k) const {
  std::size_t h = std::hash<std::uint64_t>{}(static_cast<std::uint64_t>(k.inode));
  auto mix = [&h](std::uint64_t v) { h ^= v + 0x9e3779b97f4a7c15u + (h << 6) + (h >> 2); };
  mix(static_cast<std::uint64_t>(k.device));
  mix(static_cast<std::uint64_t>(k.size));
  mix(static_cast<std::uint64_t>(k.mtime_s));
  mix(static_cast<std::uint64_t>(k.mtime_ns));
  mix(static_cast<std::uint64_t>(k.ctime_s));
  mix(static_cast<std::uint64_t>(k.ctime_ns));
  mix(static_cast<std::uint64_t>(k.coding) << 8 | static_cast<std::uint64_t>(k.level));
  return h;
}

Compressor::Compressor(Limits limits) : limits_(limits), thread_([this] { loop(); }) {}

Compressor::~Compressor() {
  {
    std::lock_guard lock(mutex_);
    stopping_.store(true, std::memory_order_relaxed);
  }
  work_.notify_all();
  thread_.join();
}

void Compressor::loop() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      work_.wait(lock, [this] {
        return stopping_.load(std::memory_order_relaxed) || !first_.empty() || !second_.empty();
      });
      std::deque<Job>& from = !first_.empty() ? first_ : second_;
      if (from.empty()) return;  // stopping, nothing left
      job = std::move(from.front());
      from.pop_front();
      if (job.second) {
        // A second pass over a copy evicted meanwhile would be thrown away: skip it.
        auto it = slots_.find(job.key);
        if (it == slots_.end() || !it->second.copy) job.skip = true;
      }
    }
    run(job);  // when stopping (or skipped): makes nothing, only balances pending_
  }
}

std::shared_ptr<const CompressedCopy> Compressor::get_or_schedule(
    std::shared_ptr<const CachedFile> file, Coding coding, int level, int second_level) {
  const struct stat& info = file->identity.info;
  // A file larger than the whole memory limit would push every other copy out (the limit is the
  // start-up one; a reload may raise compress_max_size above it).
  if (static_cast<std::uint64_t>(info.st_size) > limits_.memory) return nullptr;
  const Key key{info.st_dev,
                info.st_ino,
                info.st_size,
                info.st_mtim.tv_sec,
                info.st_mtim.tv_nsec,
                info.st_ctim.tv_sec,
                info.st_ctim.tv_nsec,
                coding,
                level};
  {
    std::lock_guard lock(mutex_);
    auto [it, inserted] = slots_.try_emplace(key);
    if (!inserted) {
      if (!it->second.copy) return nullptr;  // queued or being made
      recent_.splice(recent_.begin(), recent_, it->second.recent);
      counters_.hits.fetch_add(1, std::memory_order_relaxed);
      return it->second.copy;
    }
    counters_.misses.fetch_add(1, std::memory_order_relaxed);
    if (stopping_.load(std::memory_order_relaxed) ||
        first_.size() >= std::max<std::size_t>(limits_.queue, 1)) {
      counters_.dropped.fetch_add(1, std::memory_order_relaxed);
      slots_.erase(it);  // the next request tries again
      return nullptr;
    }
    try {
      first_.push_back(Job{key, std::move(file), level, second_level > level ? second_level : 0});
    } catch (const std::bad_alloc&) {
      slots_.erase(it);  // nothing queued: the next request tries again
      return nullptr;
    }
    ++pending_;
  }
  work_.notify_one();
  return nullptr;
}

void Compressor::count_sent(std::uint64_t file_size, std::uint64_t copy_size) {
  if (file_size > copy_size) {
    counters_.bytes_saved.fetch_add(file_size - copy_size, std::memory_order_relaxed);
  }
}

bool Compressor::read_file(const CachedFile& file, const Key& key, std::string& out) {
  const FileRepresentation& rep = file.identity;
  if (rep.in_memory) {
    out = rep.body;
    return true;
  }
  const auto size = static_cast<std::size_t>(key.size);
  out.resize(size);
  std::size_t done = 0;
  while (done < size) {
    const IoResult r =
        pread_some(rep.file.get(), out.data() + done, size - done, static_cast<off_t>(done));
    if (!r.ok() || r.bytes == 0) return false;
    done += r.bytes;
  }
  // Written meanwhile: the bytes may mix two versions. The next request (for the new version,
  // under a new key) compresses again.
  struct stat now {};
  return ::fstat(rep.file.get(), &now) == 0 && now.st_size == key.size &&
         now.st_mtim.tv_sec == key.mtime_s && now.st_mtim.tv_nsec == key.mtime_ns &&
         now.st_ctim.tv_sec == key.ctime_s && now.st_ctim.tv_nsec == key.ctime_ns;
}

void Compressor::run(Job& job) {
  // The lowest priority for this thread alone (on Linux setpriority takes a thread id): the
  // workers keep their cores, and copies are made with what they leave.
  thread_local const bool niced =
      ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 19) == 0;
  (void)niced;
  std::shared_ptr<CompressedCopy> copy;
  try {
    if (!job.skip) copy = make_copy(job);
  } catch (const std::exception&) {
    copy.reset();  // out of memory: the next request for the file tries again
  }
  if (!copy && !job.skip && !stopping_.load(std::memory_order_relaxed)) {
    counters_.failed.fetch_add(1, std::memory_order_relaxed);
  }
  if (copy && !copy->useless && job.second_level > 0) {
    Job then{job.key, std::move(job.file), job.second_level, 0, true};
    finish(job, std::move(copy), &then);
    return;
  }
  job.file.reset();  // its descriptor goes back before the next job
  finish(job, std::move(copy));
}

std::shared_ptr<CompressedCopy> Compressor::make_copy(const Job& job) {
  std::shared_ptr<CompressedCopy> copy;
  std::string input;
  if (!stopping_.load(std::memory_order_relaxed) && read_file(*job.file, job.key, input)) {
    const auto start = std::chrono::steady_clock::now();
    std::optional<std::string> bytes = compress(job.key.coding, job.level, input);
    counters_.compress_us.fetch_add(
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                       std::chrono::steady_clock::now() - start)
                                       .count()),
        std::memory_order_relaxed);
    if (bytes) {
      copy = std::make_shared<CompressedCopy>();
      copy->coding = job.key.coding;
      copy->level = job.level;
      copy->useless = bytes->size() >= input.size();
      if (!copy->useless) copy->bytes = std::move(*bytes);
      // The file's size in the tag too: two versions with one modification time and copies of
      // one size still differ. (No inode or change time: the tag stays the same on every
      // replica of an image, like the file's own.)
      copy->etag = make_etag(
          job.key.mtime_s, job.key.mtime_ns, static_cast<std::uint64_t>(copy->bytes.size()),
          copy_variant(job.key.coding, job.level, static_cast<std::uint64_t>(job.key.size)));
      counters_.compressed.fetch_add(1, std::memory_order_relaxed);
    }
  }
  return copy;
}

void Compressor::place(const Key& key, Slot& slot, std::shared_ptr<const CompressedCopy> copy,
                       std::vector<std::shared_ptr<const CompressedCopy>>& evicted) {
  // Every allocation first (they may throw), then the changes (they do not).
  evicted.reserve(recent_.size() + 1);
  recent_.push_front(key);
  if (slot.copy) {
    // A second pass replacing the first: same slot, new bytes, most recent.
    memory_ -= charge(*slot.copy);
    evicted.push_back(std::move(slot.copy));
    recent_.erase(slot.recent);
  }
  memory_ += charge(*copy);
  slot.copy = std::move(copy);
  slot.recent = recent_.begin();
  // The least recently used first; never the one just placed.
  while (memory_ > limits_.memory && recent_.size() > 1) {
    auto last = slots_.find(recent_.back());
    recent_.pop_back();
    memory_ -= charge(*last->second.copy);
    evicted.push_back(std::move(last->second.copy));
    slots_.erase(last);
  }
}

void Compressor::finish(const Job& job, std::shared_ptr<const CompressedCopy> copy, Job* then) {
  std::vector<std::shared_ptr<const CompressedCopy>> evicted;  // freed outside the lock
  bool queued = false;
  {
    std::lock_guard lock(mutex_);
    try {
      publish(job, std::move(copy), then, evicted, queued);
    } catch (const std::bad_alloc&) {
      // Out of memory while publishing: the copy (or second pass) is dropped; the slot stays
      // consistent (place() allocates before it changes anything) and the count balanced.
      counters_.failed.fetch_add(1, std::memory_order_relaxed);
      auto it = slots_.find(job.key);
      if (!job.second && it != slots_.end() && !it->second.copy) slots_.erase(it);
    }
    if (--pending_ == 0) idle_.notify_all();
  }
  if (queued) work_.notify_one();
}

void Compressor::publish(const Job& job, std::shared_ptr<const CompressedCopy> copy, Job* then,
                         std::vector<std::shared_ptr<const CompressedCopy>>& evicted,
                         bool& queued) {
  {
    auto it = slots_.find(job.key);
    if (job.second) {
      // Only over the first pass's copy, still there (not evicted meanwhile), when smaller.
      if (copy && !copy->useless && it != slots_.end() && it->second.copy &&
          copy->bytes.size() < it->second.copy->bytes.size()) {
        place(job.key, it->second, std::move(copy), evicted);
      }
    } else if (it != slots_.end()) {
      if (!copy) {
        slots_.erase(it);
      } else {
        place(job.key, it->second, std::move(copy), evicted);
        if (then != nullptr && !stopping_.load(std::memory_order_relaxed)) {
          if (second_.size() < limits_.second_passes) {
            second_.push_back(std::move(*then));
            ++pending_;
            queued = true;
          } else {
            counters_.dropped.fetch_add(1, std::memory_order_relaxed);
          }
        }
      }
    }
  }
}

void Compressor::wait_idle() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return pending_ == 0; });
}

std::size_t Compressor::memory_held() const {
  std::lock_guard lock(mutex_);
  return memory_;
}

std::size_t Compressor::copies() const {
  std::lock_guard lock(mutex_);
  return recent_.size();
}

}  // namespace cork
