// SettingsTeardown: a queue of snapshots and the thread that lets go of them.
#include "server/settings_teardown.h"

#include <malloc.h>

#include <deque>

namespace cork {

namespace {

// Reloads are rare; a burst beyond this is torn down by the thread that retires it.
constexpr std::size_t kQueueCapacity = 256;

void take_apart(std::shared_ptr<const Settings>& settings) {
  settings->files->shed();
  settings.reset();  // the last reference (usually): the root and inotify descriptors close
}

}  // namespace

SettingsTeardown::SettingsTeardown() : queue_(kQueueCapacity), thread_([this] { run(); }) {}

SettingsTeardown::~SettingsTeardown() {
  queue_.close();
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<const Settings> SettingsTeardown::adopt(std::shared_ptr<const Settings> settings) {
  const Settings* raw = settings.get();
  return std::shared_ptr<const Settings>(
      raw,
      [this, owner = std::move(settings)](const Settings*) mutable { retire(std::move(owner)); });
}

void SettingsTeardown::retire(std::shared_ptr<const Settings> settings) {
  if (!settings) return;
  if (queue_.try_push(settings)) return;
  take_apart(settings);  // full or closed: here, rather than block
}

void SettingsTeardown::run() {
  std::deque<std::shared_ptr<const Settings>> batch;
  for (;;) {
    const bool more = queue_.pop_all(batch);
    if (!batch.empty()) {
      for (auto& settings : batch) {
        take_apart(settings);
      }
      batch.clear();
      // Give the freed bodies and entries back to the system, not only to malloc's free lists:
      // a reload then leaves the resident size where it was.
      (void)::malloc_trim(0);
    }
    if (!more) return;
  }
}

}  // namespace cork
