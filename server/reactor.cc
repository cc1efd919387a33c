// Reactor: epoll loop, accept, dispatch to workers, timers, signals. Why SCHED_BATCH, the
// accept path and the FIN from the worker: tests/bench/PERFORMANCE.md ("Reactor").
#include "server/reactor.h"

#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>

#include "server/clock.h"
#include "server/io.h"
#include "server/signals.h"

namespace cork {

namespace {

// epoll tags below 2^32: a ConnHandle's generation is never 0, so its value never is one.
constexpr std::uint64_t kListenerTag = 1;
constexpr std::uint64_t kSignalTag = 2;
constexpr std::uint64_t kWakeTag = 3;
constexpr std::uint64_t kFirstWatchTag = 16;
constexpr std::uint64_t kLastTag = 0xffffffffu;
constexpr int kMaxEvents = 256;
constexpr std::int64_t kAcceptPauseMs = 100;
constexpr std::int64_t kBusyRecheckMs = 1000;

constexpr std::uint32_t kReadEvents = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
constexpr std::uint32_t kWriteEvents = EPOLLOUT | EPOLLONESHOT;

}  // namespace

Reactor::Reactor(ServerContext& context, UniqueFd listener, BlockingQueue<ConnHandle>& queue,
                 const RequestHandler& handler, ReactorOptions options)
    : context_(context),
      options_(std::move(options)),
      handler_(handler),
      listener_(std::move(listener)),
      shortest_timeout_ms_(context.settings()->shortest_timeout_ms()),
      settings_generation_(context.generation()),
      queue_(queue) {}

Reactor::~Reactor() {
  if (pool_) pool_->stop();
}

bool Reactor::init(std::string& error) {
  loop_.assert_here();
  if (!epoll_.init(error)) return false;
  signal_fd_ = open_signal_fd();
  if (!signal_fd_) {
    error = fmt::format("signalfd: {}", std::strerror(errno));
    return false;
  }
  wake_fd_.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wake_fd_) {
    error = fmt::format("eventfd: {}", std::strerror(errno));
    return false;
  }
  const std::pair<int, std::uint64_t> fixed[] = {
      {listener_.get(), kListenerTag}, {signal_fd_.get(), kSignalTag}, {wake_fd_.get(), kWakeTag}};
  for (auto [fd, tag] : fixed) {
    // Level-triggered, not one-shot: only the reactor reads these.
    if (const int err = epoll_.add(fd, EPOLLIN, tag); err != 0) {
      error = fmt::format("epoll_ctl: {}", std::strerror(err));
      return false;
    }
  }
  std::size_t slots = options_.descriptor_limit;
  if (slots == 0) {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) {
      error = "RLIMIT_NOFILE: cannot size the connection table";
      return false;
    }
    slots = limit.rlim_cur;
  }
  table_ = std::make_unique<ConnectionTable>(slots, context_.metrics, loop_);
  return true;
}

bool Reactor::watch(int fd, std::function<void()> on_ready, std::string& error) {
  loop_.assert_here();
  auto slot =
      std::find_if(watches_.begin(), watches_.end(), [](const Watch& w) { return w.fd < 0; });
  if (slot == watches_.end()) slot = watches_.insert(watches_.end(), Watch{});
  const auto tag = kFirstWatchTag + static_cast<std::uint64_t>(slot - watches_.begin());
  if (tag > kLastTag) {
    error = "too many watched descriptors";
    return false;
  }
  if (const int err = epoll_.add(fd, EPOLLIN, tag); err != 0) {
    error = fmt::format("epoll_ctl(ADD {}): {}", fd, std::strerror(err));
    return false;
  }
  slot->fd = fd;
  slot->on_ready = std::move(on_ready);
  return true;
}

void Reactor::unwatch(int fd) {
  loop_.assert_here();
  for (Watch& w : watches_) {
    if (w.fd != fd) continue;
    if (const int err = epoll_.remove(fd); err != 0) {
      context_.log.log(LogLevel::kWarn, "epoll_ctl(DEL {}): {}", fd, std::strerror(err));
    }
    w.fd = -1;
    w.on_ready = nullptr;
  }
}

int Reactor::run() {
  loop_.bind();
  // SCHED_BATCH for this thread and the workers it starts (threads inherit the policy): a
  // wake-up does not preempt the running thread, so wake-ups batch under load
  // (PERFORMANCE.md). Best effort: without it cork only runs slower.
  const sched_param no_priority{};
  if (::sched_setscheduler(0, SCHED_BATCH, &no_priority) != 0) {
    context_.log.log(LogLevel::kDebug, "sched_setscheduler(SCHED_BATCH): {}", std::strerror(errno));
  }
  pool_ = std::make_unique<ThreadPool<ConnHandle>>(options_.threads, queue_,
                                                   [this](ConnHandle& h) { serve(h); });
  std::vector<epoll_event> events(kMaxEvents);
  for (;;) {
    const int n =
        epoll_.wait(events.data(), kMaxEvents, wait_timeout_ms(context_.clock.monotonic_ms()));
    if (n < 0) {
      context_.log.log(LogLevel::kError, "epoll_wait: {}", std::strerror(-n));
      break;
    }
    const std::int64_t now = context_.clock.monotonic_ms();
    // Watched descriptors first: a file change must retire cache entries before a request that
    // arrived in the same batch is served.
    for (int i = 0; i < n; ++i) {
      const std::uint64_t tag = events[i].data.u64;
      if (tag < kFirstWatchTag || tag > kLastTag) continue;
      const std::size_t index = tag - kFirstWatchTag;
      if (index < watches_.size() && watches_[index].fd >= 0) watches_[index].on_ready();
    }
    for (int i = 0; i < n; ++i) {
      const std::uint64_t tag = events[i].data.u64;
      if (tag == kListenerTag) {
        accept_all(now);
      } else if (tag == kSignalTag) {
        handle_signals(now);
      } else if (tag == kWakeTag) {
        close_retired();
      } else if (tag > kLastTag) {
        dispatch(ConnHandle{tag});
      }
    }
    if (accept_paused_until_ms_ != 0 && now >= accept_paused_until_ms_ && !stopping_) {
      accept_paused_until_ms_ = 0;
      if (const int err = epoll_.modify(listener_.get(), EPOLLIN, kListenerTag); err != 0) {
        context_.log.log_coalesced(LogLevel::kError, "epoll_ctl(listener): {}", std::strerror(err));
      }
    }
    expire_timers(now);
    if (stopping_ && (table_->live() == 0 || now >= stop_deadline_ms_)) break;
  }

  // Workers finish what they hold (all their I/O is non-blocking) and exit; then nobody but this
  // thread touches a connection, and the remaining ones are closed.
  pool_->stop();
  close_retired();
  const std::size_t forced = table_->close_all();
  if (forced > 0) {
    context_.log.log(LogLevel::kWarn, "closed {} connections at the end of the grace period",
                     forced);
  }
  context_.log.log(LogLevel::kInfo, "stopped");
  return 0;
}

int Reactor::wait_timeout_ms(std::int64_t now_ms) const {
  std::int64_t wait = 1000;
  if (!timers_.empty()) wait = std::min(wait, timers_.next_deadline() - now_ms);
  if (accept_paused_until_ms_ != 0) wait = std::min(wait, accept_paused_until_ms_ - now_ms);
  if (stopping_) wait = std::min(wait, stop_deadline_ms_ - now_ms);
  // Coarse clocks tick every few ms; never spin on a deadline that has just passed.
  return static_cast<int>(std::max<std::int64_t>(wait, 1));
}

void Reactor::refresh_settings() {
  if (context_.generation() == settings_generation_) return;
  settings_generation_ = context_.generation();
  shortest_timeout_ms_ = context_.settings()->shortest_timeout_ms();
}

std::int64_t Reactor::next_check(std::int64_t deadline_ms, std::int64_t now_ms) const {
  // Workers may move a deadline earlier than the entry in the heap (a keep-alive timeout shorter
  // than the header timeout); no deadline is ever set closer than the shortest timeout to the
  // time it is set, so looking at least that often closes every connection in time. After a
  // reload that shortens a timeout, entries made under the old settings fire late at most once.
  return std::min(deadline_ms, now_ms + shortest_timeout_ms_);
}

void Reactor::accept_all(std::int64_t now_ms) {
  loop_.assert_here();
  refresh_settings();
  bool shed_tried = false;
  while (!stopping_) {
    sockaddr_storage peer{};
    const AcceptResult accepted = accept_connection(listener_.get(), peer);
    if (accepted.status == IoResult::Status::kWouldBlock) return;
    if (accepted.status != IoResult::Status::kOk) {
      const bool short_of_descriptors = accepted.error == EMFILE || accepted.error == ENFILE;
      if (short_of_descriptors && !shed_tried && options_.on_descriptors_short &&
          options_.on_descriptors_short()) {
        // Cached files gave their descriptors back: a connection below max_connections is
        // never refused for them. Once per batch, so that a shortage nothing can relieve
        // still pauses.
        shed_tried = true;
        context_.metrics.accept_errors.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      pause_accepting(now_ms, accepted.error);
      return;
    }
    UniqueFd socket(accepted.fd);
    Connection* c = nullptr;
    if (table_->live() < options_.max_connections) {
      c = table_->open(socket, peer, context_, handler_, now_ms);
    }
    if (c == nullptr) {
      // At max_connections (or, should the budget have been passed, an fd beyond the table).
      context_.log.log_coalesced(LogLevel::kWarn, "max_connections ({}) reached: answering 503",
                                 options_.max_connections);
      reject_with_503(socket.get());
      continue;
    }
    // TCP_NODELAY comes from the listener (see listener.cc).
    timers_.push(next_check(c->deadline_ms.load(std::memory_order_relaxed), now_ms),
                 c->handle().value);
    // Straight to a worker, not yet in the epoll set: with TCP_DEFER_ACCEPT (listener.cc) the
    // request has usually arrived already. The worker adds the socket to the epoll set the
    // first time it has to wait (Reactor::serve).
    dispatch(c->handle());
  }
}

void Reactor::pause_accepting(std::int64_t now_ms, int error) {
  context_.metrics.accept_errors.fetch_add(1, std::memory_order_relaxed);
  // EMFILE, ENFILE, ENOBUFS, ENOMEM: keep serving the connections we have, stop accepting
  // briefly (the listener is level-triggered and would otherwise spin), log at most 1/s.
  context_.log.log_coalesced(LogLevel::kError, "accept: {} (pausing accepts for {} ms)",
                             std::strerror(error), kAcceptPauseMs);
  if (const int err = epoll_.modify(listener_.get(), 0, kListenerTag); err != 0) {
    context_.log.log_coalesced(LogLevel::kError, "epoll_ctl(listener): {}", std::strerror(err));
  }
  accept_paused_until_ms_ = now_ms + kAcceptPauseMs;
}

void Reactor::reject_with_503(int fd) {
  context_.metrics.rejected_503.fetch_add(1, std::memory_order_relaxed);
  // Overload: a complete 503 and close (RFC 9110 15.6.4). Best effort, never blocks: the socket
  // is non-blocking and the answer is far smaller than any socket buffer. Input that already
  // arrived is read first so that closing does not reset the connection before the answer.
  char drain[4096];
  (void)recv_some(fd, drain, sizeof drain, MSG_DONTWAIT);
  const ResponsePlan plan = handler_.refuse_overloaded(http_date_at(context_.clock.wall_seconds()));
  const std::string_view body = plan.inline_body();
  const iovec parts[2] = {{const_cast<char*>(plan.head.data()), plan.head.size()},
                          {const_cast<char*>(body.data()), body.size()}};
  (void)send_vector(fd, parts, 2);
  (void)shutdown_write(fd);
}

void Reactor::dispatch(ConnHandle handle) {
  loop_.assert_here();
  Connection* c = table_->find(handle);
  if (c == nullptr) return;  // closed earlier in this batch
  if (c->ownership.claim_or_mark_pending() == Ownership::Claim::kMarkedPending) return;
  if (queue_.try_push(handle)) return;
  // Queue full: refuse this one rather than block the reactor. We own it (claimed, not queued).
  c->ownership.abandon_claim();
  if (c->between_requests()) {
    context_.log.log_coalesced(LogLevel::kWarn, "queue full ({}): answering 503",
                               queue_.capacity());
    reject_with_503(c->fd());
  } else {
    // In the middle of a request or a response: a 503 now would be spliced into it.
    context_.log.log_coalesced(
        LogLevel::kWarn, "queue full ({}): closing a connection mid-response", queue_.capacity());
  }
  table_->close(*c);  // logs an unfinished response, keeps the metrics balanced
}

void Reactor::serve(ConnHandle handle) {
  // The reactor never destroys a kBusy connection, so this slot is stable while we own it.
  Connection& c = table_->owned(handle);
  assert(c.handle() == handle);
  struct BusyWorker {  // the status page's busy_workers gauge, for the whole call
    Metrics& metrics;
    explicit BusyWorker(Metrics& m) : metrics(m) { metrics.add_busy(1); }
    ~BusyWorker() { metrics.add_busy(-1); }
    BusyWorker(const BusyWorker&) = delete;
    BusyWorker& operator=(const BusyWorker&) = delete;
  } busy(context_.metrics);
  for (;;) {
    const Connection::Next next = c.serve(context_.clock.monotonic_ms());
    if (next == Connection::Next::kClose) break;
    const std::uint32_t events = next == Connection::Next::kRead ? kReadEvents : kWriteEvents;
    const int err = c.in_epoll ? epoll_.modify(c.fd(), events, handle.value)
                               : epoll_.add(c.fd(), events, handle.value);
    if (err != 0) {
      context_.log.log_coalesced(LogLevel::kError, "epoll_ctl({}): {}", c.in_epoll ? "MOD" : "ADD",
                                 std::strerror(err));
      break;
    }
    c.in_epoll = true;
    // From here on the reactor may hand the connection to anyone; if an event came in
    // meanwhile, we still own it and serve it again.
    if (c.ownership.publish_idle()) return;
  }
  c.prepare_close();  // on this thread: the FIN leaves from the worker
  c.ownership.release_for_close();
  retire(handle);
}

void Reactor::retire(ConnHandle handle) {
  bool was_empty;
  {
    std::lock_guard lock(retired_mutex_);
    was_empty = retired_.empty();
    retired_.push_back(handle);
  }
  if (was_empty) {
    const std::uint64_t one = 1;
    // A full eventfd counter still wakes the reactor; nothing else can fail here.
    (void)write_some(wake_fd_.get(), &one, sizeof one);
  }
}

void Reactor::close_retired() {
  loop_.assert_here();
  std::uint64_t count;
  (void)read_some(wake_fd_.get(), &count, sizeof count);  // resets the eventfd
  std::vector<ConnHandle> batch;
  {
    std::lock_guard lock(retired_mutex_);
    batch.swap(retired_);
  }
  for (ConnHandle h : batch) {
    if (Connection* c = table_->find(h)) table_->close(*c);
  }
}

void Reactor::expire_timers(std::int64_t now_ms) {
  loop_.assert_here();
  refresh_settings();
  while (!timers_.empty() && timers_.next_deadline() <= now_ms) {
    const TimerHeap::Entry entry = timers_.pop();
    Connection* c = table_->find(ConnHandle{entry.handle});
    if (c == nullptr) continue;  // already closed: its entry just goes away
    if (!c->ownership.idle()) {
      // A worker owns it; look again later.
      timers_.push(next_check(now_ms + kBusyRecheckMs, now_ms), entry.handle);
      continue;
    }
    const std::int64_t deadline = c->deadline_ms.load(std::memory_order_relaxed);
    if (deadline > now_ms) {
      timers_.push(next_check(deadline, now_ms), entry.handle);
      continue;
    }
    if (!c->ownership.claim_for_close()) continue;  // cannot fail: only we leave kIdle
    context_.log.log(LogLevel::kDebug, "closing fd {}: timeout", c->fd());
    table_->close(*c);
  }
}

void Reactor::handle_signals(std::int64_t now_ms) {
  loop_.assert_here();
  while (const int sig = read_signal(signal_fd_.get())) {
    if (sig == SIGINT || sig == SIGTERM) {
      if (!stopping_) {
        context_.log.log(LogLevel::kInfo, "{}: shutting down (grace period {} ms)",
                         sig == SIGINT ? "SIGINT" : "SIGTERM", options_.shutdown_grace_ms);
        begin_shutdown(now_ms);
      }
    } else if (sig == SIGHUP) {
      if (options_.on_reload) options_.on_reload();
      refresh_settings();
    } else if (sig == SIGUSR1) {
      if (options_.on_reopen_logs) options_.on_reopen_logs();
    }
  }
}

void Reactor::begin_shutdown(std::int64_t now_ms) {
  stopping_ = true;
  stop_deadline_ms_ = now_ms + options_.shutdown_grace_ms;
  context_.draining.store(true, std::memory_order_relaxed);
  listener_.reset();  // stop accepting; new clients get "connection refused"
  // Idle keep-alive connections have nothing in flight: close them now. Connections in the
  // middle of a request finish it (their responses say Connection: close).
  table_->for_each([this](Connection& c) {
    if (!c.ownership.idle() || !c.between_requests()) return;
    if (c.ownership.claim_for_close()) table_->close(c);
  });
}

}  // namespace cork
