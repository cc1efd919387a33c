// LogFile: one log destination (the error log or the access log) and the only code that writes
// log lines to it. Two promises:
//   - The descriptor keeps its number while the server runs: pointing the log elsewhere
//     (SIGHUP) or reopening it (SIGUSR1, logrotate) dup3()s the new file onto that number,
//     which is atomic for a thread writing at that moment.
//   - A write never leaves half a line in front of the next one. When a write stops short (a
//     full file system, RLIMIT_FSIZE, a pipe whose reader left), a regular file cork opened
//     itself is truncated back to its last whole line; anything else ("-": a pipe, a terminal,
//     a file the shell opened) cannot be taken back, so the fragment is ended with a newline
//     before the next line. Either way the lines that were not written whole are counted, so
//     that the caller can count them as dropped.
// It knows nothing of levels or formats: lines arrive formatted.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>

#include "server/unique_fd.h"

namespace cork {

// Neither copyable nor movable: threads write through it while the reactor thread switches it.
class LogFile {
 public:
  // A destination opened but not switched to yet, so that a reload can open every new file
  // before it switches any (all or nothing). Move-only.
  class Opened {
   public:
    Opened() = default;
    Opened(Opened&&) noexcept = default;
    Opened& operator=(Opened&&) noexcept = default;
    Opened(const Opened&) = delete;
    Opened& operator=(const Opened&) = delete;
    // Closes the file and, when opening it created it, removes it again: a refused switch
    // leaves nothing behind.
    void discard();

   private:
    friend class LogFile;
    UniqueFd fd_;
    std::string path_;
    bool own_file_ = false;  // a regular file opened by path: may be truncated
    bool created_ = false;   // did not exist before
  };

  // `standard` is the descriptor "-" stands for (1: stdout, 2: stderr); until the first
  // switch_to(), lines are written to it directly.
  explicit LogFile(int standard) : standard_(standard) {}
  LogFile(const LogFile&) = delete;
  LogFile& operator=(const LogFile&) = delete;

  // Opens `path` for appending ("-": a duplicate of the standard descriptor), creating the file
  // (0644) when it does not exist. False with `error` set ("cannot open log file PATH: ...").
  bool open(const std::string& path, Opened& out, std::string& error) const;
  // Whether `path` can be opened for appending, leaving nothing behind: a file that does not
  // exist is created and removed again. A FIFO without a reader counts as openable. For
  // --check. "-" always can.
  static bool check(const std::string& path, std::string& error);

  // Points this log at `opened`. Cannot fail once `opened` is open: dup3() onto a number we
  // hold fails only for reasons that do not apply here. Reactor thread (or before the server
  // runs); safe while other threads write.
  void switch_to(Opened&& opened);
  // Whether switch_to() was called.
  bool is_open() const { return fd_number_.load(std::memory_order_acquire) >= 0; }

  // Copyable value: what write_lines() could not do.
  struct Failure {
    std::size_t lines = 0;  // lines not written whole (each counts as dropped)
    int error = 0;          // errno of the write that failed
  };
  // Writes `lines` (whole lines, the last ending with '\n'). Waits while the destination is
  // full (the callers are log threads, or the server before it runs). Safe to call from any
  // thread; writes are serialized.
  Failure write_lines(std::string_view lines);

 private:
  // After a short write that left `fragment` bytes of a line at the end: truncates them away
  // when the file is cork's own and nobody wrote after them. False when they stay.
  bool take_back(int fd, std::size_t fragment) const;

  const int standard_;
  UniqueFd fd_;                        // set once, by the first switch_to(); then its number stays
  std::atomic<int> fd_number_{-1};     // fd_'s number, for the writers
  std::atomic<bool> own_file_{false};  // what fd_ points at now may be truncated
  std::mutex write_mutex_;
  // Guarded by write_mutex_: the destination ends with a fragment (the file with this device
  // and inode) that needs a newline before the next line.
  bool unterminated_ = false;
  dev_t unterminated_device_ = 0;
  ino_t unterminated_inode_ = 0;
};

}  // namespace cork
