// SettingsTeardown: where replaced Settings are destroyed, on a thread of its own. A Settings'
// destruction closes its root and inotify descriptors and every descriptor its file cache holds
// (thousands, after a busy site), which must not stall the reactor or a worker between two
// responses. The snapshots the server publishes are wrapped by adopt(): whichever thread lets go
// of the last reference only queues the snapshot here.
//
// Neither copyable nor movable (the thread and the adopted snapshots hold `this`). It must
// outlive every snapshot it adopted: declare it before anything that holds one.
#pragma once

#include <memory>
#include <thread>

#include "pool/blocking_queue.h"
#include "server/settings.h"

namespace cork {

class SettingsTeardown {
 public:
  SettingsTeardown();
  // Destroys what is still queued, then joins the thread.
  ~SettingsTeardown();
  SettingsTeardown(const SettingsTeardown&) = delete;
  SettingsTeardown& operator=(const SettingsTeardown&) = delete;

  // The snapshot to publish in place of `settings`: the same object, whose last release hands
  // it to retire(). Safe from any thread.
  std::shared_ptr<const Settings> adopt(std::shared_ptr<const Settings> settings);
  // Sheds the file cache of a snapshot that was just replaced (connections still answering
  // under it keep what they send) and drops this reference, on the teardown thread. Safe from
  // any thread; never blocks (with the queue full, the work is done on the caller's thread).
  void retire(std::shared_ptr<const Settings> settings);

 private:
  void run();

  BlockingQueue<std::shared_ptr<const Settings>> queue_;
  std::thread thread_;
};

}  // namespace cork
