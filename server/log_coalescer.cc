// LogCoalescer: a fixed table of call sites, a lock-free count per site, a lock once a second.
#include "server/log_coalescer.h"

#include <fmt/format.h>

namespace cork {

LogCoalescer::Entry* LogCoalescer::find(const void* key) {
  // Entries are claimed in order and never given back: the first empty one ends the search.
  for (Entry& e : entries_) {
    const void* current = e.key.load(std::memory_order_acquire);
    if (current == key) return &e;
    if (current != nullptr) continue;
    if (e.key.compare_exchange_strong(current, key, std::memory_order_acq_rel)) return &e;
    if (current == key) return &e;  // another thread claimed it for the same key
  }
  return nullptr;
}

LogCoalescer::Verdict LogCoalescer::occur(const void* key, std::int64_t now_ms) {
  Entry* e = find(key);
  if (e == nullptr || now_ms >= e->window_end_ms.load(std::memory_order_acquire)) {
    return Verdict::kLog;
  }
  return e->repeats.fetch_add(1, std::memory_order_relaxed) == 0 ? Verdict::kCountedFirst
                                                                 : Verdict::kCounted;
}

bool LogCoalescer::first(const void* key, std::int64_t now_ms, LogLevel level,
                         const std::string& message, std::vector<Summary>& ended) {
  Entry* e = find(key);
  if (e == nullptr) return true;  // the table is full: no coalescing for this one
  std::lock_guard lock(e->mutex);
  if (now_ms < e->window_end_ms.load(std::memory_order_relaxed)) {
    // Another thread started the second meanwhile: this one is a repeat.
    if (e->repeats.fetch_add(1, std::memory_order_relaxed) == 0) e->example = message;
    return false;
  }
  // A second that ended with repeats and was not flushed yet (no flushing thread, or between
  // its rounds): its summary now, and the repeats go on in a new second that this occurrence
  // starts, so that a lasting flood writes one line a second, not two.
  const std::size_t summaries = ended.size();
  take(*e, ended);
  const bool repeating = ended.size() > summaries;
  e->level = level;
  e->example = message;
  e->window_end_ms.store(now_ms + kWindowMs, std::memory_order_release);
  if (!repeating) return true;
  e->repeats.fetch_add(1, std::memory_order_relaxed);
  return false;
}

void LogCoalescer::example(const void* key, std::string message) {
  Entry* e = find(key);
  if (e == nullptr) return;
  std::lock_guard lock(e->mutex);
  e->example = std::move(message);
}

void LogCoalescer::take(Entry& e, std::vector<Summary>& out) {
  const std::uint64_t repeats = e.repeats.exchange(0, std::memory_order_relaxed);
  if (repeats == 0) return;
  // The example is one of the repeats: it stands for itself, the count for the others.
  out.push_back({e.level, repeats == 1 ? e.example
                                       : fmt::format("{} (and {} more in the last second)",
                                                     e.example, repeats - 1)});
}

std::vector<LogCoalescer::Summary> LogCoalescer::flush(std::int64_t now_ms) {
  std::vector<Summary> out;
  for (Entry& e : entries_) {
    if (e.key.load(std::memory_order_acquire) == nullptr) break;
    if (now_ms < e.window_end_ms.load(std::memory_order_acquire) ||
        e.repeats.load(std::memory_order_relaxed) == 0) {
      continue;
    }
    std::lock_guard lock(e.mutex);
    if (now_ms < e.window_end_ms.load(std::memory_order_relaxed)) continue;
    const std::size_t summaries = out.size();
    take(e, out);
    if (out.size() == summaries) continue;
    // Still repeating: keep counting for another second (at shutdown: none, log them again).
    e.window_end_ms.store(now_ms == kEverything ? 0 : now_ms + kWindowMs,
                          std::memory_order_release);
  }
  return out;
}

}  // namespace cork
