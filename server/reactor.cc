// Reactor: epoll loop, accept, dispatch to workers, timers, signals, and the one place that
// closes connections.
#include "server/reactor.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>

#include "http/response_head.h"
#include "http/status.h"
#include "server/clock.h"
#include "server/signals.h"

namespace cork {

namespace {

constexpr std::uint64_t kListenerTag = ~std::uint64_t{0};
constexpr std::uint64_t kSignalTag = ~std::uint64_t{0} - 1;
constexpr std::uint64_t kWakeTag = ~std::uint64_t{0} - 2;
constexpr std::uint64_t kFileCacheTag = ~std::uint64_t{0} - 3;
constexpr int kMaxEvents = 256;
constexpr std::int64_t kAcceptPauseMs = 100;
constexpr std::int64_t kBusyRecheckMs = 1000;

constexpr std::uint32_t kReadEvents = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
constexpr std::uint32_t kWriteEvents = EPOLLOUT | EPOLLONESHOT;

// Table size: fds are allocated lowest-first, so live connections plus the server's own files
// stay below max_connections + this slack.
constexpr std::size_t kFdSlack = 1024;

}  // namespace

Reactor::Reactor(ServerContext& context, UniqueFd listener, const ReactorOptions& options)
    : context_(context),
      options_(options),
      listener_(std::move(listener)),
      settings_(context.settings()),
      queue_(options.queue_capacity) {}

Reactor::~Reactor() {
  if (pool_) pool_->stop();
}

bool Reactor::init(std::string& error) {
  epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_) {
    error = fmt::format("epoll_create1: {}", std::strerror(errno));
    return false;
  }
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
    epoll_event ev{};
    ev.events = EPOLLIN;  // level-triggered, not one-shot: only the reactor reads these
    ev.data.u64 = tag;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
      error = fmt::format("epoll_ctl: {}", std::strerror(errno));
      return false;
    }
  }
  rlimit limit{};
  std::size_t slots = options_.max_connections + kFdSlack;
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    slots = std::min<std::size_t>(slots, limit.rlim_cur);
  }
  table_.resize(slots);
  watch_file_cache(nullptr);
  const auto started = monotonic_ms();
  context_.gauges = [this, started] {
    MetricsGauges g;
    g.queue_depth = queue_.size();
    g.queue_capacity = queue_.capacity();
    g.workers = options_.threads;
    g.dropped_log_lines = context_.access_log.dropped();
    g.uptime_seconds = static_cast<double>(monotonic_ms() - started) / 1000.0;
    return g;
  };
  return true;
}

int Reactor::run() {
  // SCHED_BATCH for this thread and the workers it starts (threads inherit the policy): same
  // share of the CPU as before, but a wake-up does not preempt the thread that is running. On
  // a busy machine the reactor then finds several ready connections per epoll_wait() instead of
  // one, and a worker several queued ones, so each request costs fewer context switches; on an
  // idle core nothing changes. Measured (2 cores shared with wrk, 5 interleaved rounds): 1 KiB
  // keep-alive 1000 connections 80k -> 89k req/s, 64 connections 111k -> 125k; p99 within
  // the noise (64 connections: 1.1-2.0 ms against 1.55-1.57 ms without, two runs each).
  // Best effort: without it cork only runs slower.
  const sched_param no_priority{};
  if (::sched_setscheduler(0, SCHED_BATCH, &no_priority) != 0) {
    context_.log.log(LogLevel::kDebug, "sched_setscheduler(SCHED_BATCH): {}", std::strerror(errno));
  }
  pool_ = std::make_unique<ThreadPool<ConnHandle>>(options_.threads, queue_,
                                                   [this](ConnHandle& h) { serve(h); });
  std::vector<epoll_event> events(kMaxEvents);
  for (;;) {
    const int n =
        ::epoll_wait(epoll_.get(), events.data(), kMaxEvents, wait_timeout_ms(monotonic_ms()));
    if (n < 0 && errno != EINTR) {
      context_.log.log(LogLevel::kError, "epoll_wait: {}", std::strerror(errno));
      break;
    }
    const std::int64_t now = monotonic_ms();
    // File changes first: a request that arrived in the same batch must not get a stale entry.
    for (int i = 0; i < n; ++i) {
      if (events[i].data.u64 == kFileCacheTag) settings_->files->handle_notifications();
    }
    for (int i = 0; i < n; ++i) {
      const std::uint64_t tag = events[i].data.u64;
      if (tag == kListenerTag) {
        accept_all(now);
      } else if (tag == kSignalTag) {
        handle_signals(now);
      } else if (tag == kWakeTag) {
        close_retired();
      } else if (tag == kFileCacheTag) {
        // handled above
      } else {
        dispatch(ConnHandle{tag});
      }
    }
    if (accept_paused_until_ms_ != 0 && now >= accept_paused_until_ms_ && !stopping_) {
      accept_paused_until_ms_ = 0;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = kListenerTag;
      ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, listener_.get(), &ev);
    }
    expire_timers(now);
    if (stopping_ && (live_ == 0 || now >= stop_deadline_ms_)) break;
  }

  // Workers finish what they hold (all their I/O is non-blocking) and exit; then nobody but this
  // thread touches a connection, and the remaining ones are closed.
  pool_->stop();
  close_retired();
  std::size_t forced = 0;
  for (auto& slot : table_) {
    if (slot) {
      ++forced;
      slot->prepare_close();
      slot.reset();
    }
  }
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

std::int64_t Reactor::next_check(std::int64_t deadline_ms, std::int64_t now_ms) const {
  // Workers may move a deadline earlier than the entry in the heap (a keep-alive timeout shorter
  // than the header timeout); no deadline is ever set closer than the shortest timeout to the
  // time it is set, so looking at least that often closes every connection in time. After a
  // reload that shortens a timeout, entries made under the old settings fire late at most once.
  return std::min(deadline_ms, now_ms + settings_->shortest_timeout_ms());
}

void Reactor::watch_file_cache(const Settings* previous) {
  // The old cache's descriptor leaves the epoll set before its Settings may be destroyed.
  if (previous != nullptr && previous->files->notification_fd() >= 0) {
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, previous->files->notification_fd(), nullptr);
  }
  const int fd = settings_->files->notification_fd();
  if (fd < 0) return;  // no inotify: the cache checks each hit with fstatat() instead
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kFileCacheTag;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
    context_.log.log(LogLevel::kWarn, "epoll_ctl(inotify): {}", std::strerror(errno));
  }
}

Connection* Reactor::find(ConnHandle handle) const {
  const int fd = handle.fd();
  if (fd < 0 || static_cast<std::size_t>(fd) >= table_.size()) return nullptr;
  Connection* c = table_[static_cast<std::size_t>(fd)].get();
  return (c != nullptr && c->handle() == handle) ? c : nullptr;
}

void Reactor::accept_all(std::int64_t now_ms) {
  while (!stopping_) {
    sockaddr_storage peer{};
    socklen_t peer_len = sizeof peer;
    const int fd = ::accept4(listener_.get(), reinterpret_cast<sockaddr*>(&peer), &peer_len,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      context_.metrics.accept_errors.fetch_add(1, std::memory_order_relaxed);
      // EMFILE, ENFILE, ENOBUFS, ENOMEM: keep serving the connections we have, stop accepting
      // briefly (the listener is level-triggered and would otherwise spin), log at most 1/s.
      if (now_ms - last_accept_error_log_ms_ >= 1000) {
        last_accept_error_log_ms_ = now_ms;
        context_.log.log(LogLevel::kError, "accept: {} (pausing accepts for {} ms)",
                         std::strerror(errno), kAcceptPauseMs);
      }
      epoll_event ev{};
      ev.data.u64 = kListenerTag;
      ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, listener_.get(), &ev);
      accept_paused_until_ms_ = now_ms + kAcceptPauseMs;
      return;
    }
    UniqueFd socket(fd);
    if (live_ >= options_.max_connections || static_cast<std::size_t>(fd) >= table_.size()) {
      reject_with_503(fd);
      continue;
    }
    // TCP_NODELAY comes from the listener (see listener.cc).
    const ConnHandle handle = ConnHandle::make(fd, next_generation_);
    if (++next_generation_ == 0) next_generation_ = 1;  // generation 0 never names a connection
    auto connection =
        std::make_unique<Connection>(std::move(socket), handle, peer, context_, now_ms);
    timers_.push(next_check(connection->deadline_ms.load(std::memory_order_relaxed), now_ms),
                 handle.value);
    table_[static_cast<std::size_t>(fd)] = std::move(connection);
    highest_fd_ = std::max(highest_fd_, fd);
    ++live_;
    context_.metrics.connections_open.fetch_add(1, std::memory_order_relaxed);
    // Straight to a worker, not yet in the epoll set: with TCP_DEFER_ACCEPT (listener.cc) the
    // request has usually arrived already, and a Connection: close exchange then needs no
    // epoll_ctl and no epoll round trip at all. The worker adds the socket to the epoll set the
    // first time it has to wait (Reactor::serve).
    dispatch(handle);
  }
}

void Reactor::reject_with_503(int fd) {
  context_.metrics.rejected_503.fetch_add(1, std::memory_order_relaxed);
  // Overload: a complete 503 and close (RFC 9110 15.6.4). Best effort, never blocks: the socket
  // is non-blocking and the answer is far smaller than any socket buffer. Input that already
  // arrived is read first so that closing does not reset the connection before the answer.
  char drain[4096];
  (void)::recv(fd, drain, sizeof drain, MSG_DONTWAIT);
  const std::string_view page = status_page(503);
  ResponseHead head;
  head.status = 503;
  head.date = http_date_now();
  head.content_type = "text/html; charset=utf-8";
  head.content_length = page.size();
  head.connection = "close";
  fmt::memory_buffer out;
  append_response_head(out, head);
  out.append(page);
  (void)::send(fd, out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  ::shutdown(fd, SHUT_WR);
}

void Reactor::dispatch(ConnHandle handle) {
  Connection* c = find(handle);
  if (c == nullptr) return;  // closed earlier in this batch
  auto phase = c->phase.load(std::memory_order_acquire);
  for (;;) {
    if (phase == Connection::Phase::kIdle) {
      c->phase.store(Connection::Phase::kBusy, std::memory_order_relaxed);
      if (queue_.try_push(handle)) return;
      // Queue full: refuse this one rather than block the reactor. We own it (kBusy, not queued).
      c->phase.store(Connection::Phase::kClosing, std::memory_order_relaxed);
      if (c->between_requests()) {
        context_.log.log(LogLevel::kWarn, "queue full ({}): answering 503", queue_.capacity());
        reject_with_503(c->fd());
      } else {
        // In the middle of a request or a response: a 503 now would be spliced into it.
        context_.log.log(LogLevel::kWarn, "queue full ({}): closing a connection mid-response",
                         queue_.capacity());
      }
      c->prepare_close();  // logs an unfinished response, keeps the metrics balanced
      close(*c);
      return;
    }
    if (phase == Connection::Phase::kBusy) {
      // The owner re-armed and has not yet published kIdle: tell it to serve once more.
      if (c->phase.compare_exchange_weak(phase, Connection::Phase::kPending,
                                         std::memory_order_acq_rel, std::memory_order_acquire)) {
        return;
      }
      continue;  // it became kIdle meanwhile: dispatch normally
    }
    assert(false && "event for a connection that is pending or closing");
    return;
  }
}

void Reactor::serve(ConnHandle handle) {
  // The reactor never destroys a kBusy connection, so this slot is stable while we own it.
  Connection& c = *table_[static_cast<std::size_t>(handle.fd())];
  assert(c.handle() == handle);
  struct BusyWorker {  // the status page's busy_workers gauge, for the whole call
    std::atomic<std::int64_t>& gauge;
    explicit BusyWorker(std::atomic<std::int64_t>& g) : gauge(g) {
      gauge.fetch_add(1, std::memory_order_relaxed);
    }
    ~BusyWorker() { gauge.fetch_sub(1, std::memory_order_relaxed); }
  } busy(context_.metrics.busy_workers);
  for (;;) {
    const Connection::Next next = c.serve(monotonic_ms());
    if (next == Connection::Next::kClose) break;
    epoll_event ev{};
    ev.events = next == Connection::Next::kRead ? kReadEvents : kWriteEvents;
    ev.data.u64 = handle.value;
    const int op = c.in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (::epoll_ctl(epoll_.get(), op, c.fd(), &ev) != 0) {
      context_.log.log(LogLevel::kError, "epoll_ctl({}): {}", c.in_epoll ? "MOD" : "ADD",
                       std::strerror(errno));
      break;
    }
    c.in_epoll = true;
    // Publish: from here on the reactor may hand the connection to anyone.
    auto expected = Connection::Phase::kBusy;
    if (c.phase.compare_exchange_strong(expected, Connection::Phase::kIdle,
                                        std::memory_order_release, std::memory_order_acquire)) {
      return;
    }
    // kPending: the event already fired and was given back to us; serve again.
    c.phase.store(Connection::Phase::kBusy, std::memory_order_relaxed);
  }
  c.prepare_close();
  c.phase.store(Connection::Phase::kClosing, std::memory_order_release);
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
    (void)!::write(wake_fd_.get(), &one, sizeof one);
  }
}

void Reactor::close_retired() {
  std::uint64_t count;
  (void)!::read(wake_fd_.get(), &count, sizeof count);
  std::vector<ConnHandle> batch;
  {
    std::lock_guard lock(retired_mutex_);
    batch.swap(retired_);
  }
  for (ConnHandle h : batch) {
    if (Connection* c = find(h)) close(*c);
  }
}

void Reactor::close(Connection& connection) {
  // The only place a connection's socket is closed: destroying the Connection closes its
  // UniqueFd, which also removes it from the epoll set.
  table_[static_cast<std::size_t>(connection.fd())].reset();
  --live_;
  context_.metrics.connections_open.fetch_sub(1, std::memory_order_relaxed);
}

void Reactor::expire_timers(std::int64_t now_ms) {
  while (!timers_.empty() && timers_.next_deadline() <= now_ms) {
    const TimerHeap::Entry entry = timers_.pop();
    Connection* c = find(ConnHandle{entry.handle});
    if (c == nullptr) continue;  // already closed: its entry just goes away
    if (c->phase.load(std::memory_order_acquire) != Connection::Phase::kIdle) {
      // A worker owns it; look again later.
      timers_.push(next_check(now_ms + kBusyRecheckMs, now_ms), entry.handle);
      continue;
    }
    const std::int64_t deadline = c->deadline_ms.load(std::memory_order_relaxed);
    if (deadline > now_ms) {
      timers_.push(next_check(deadline, now_ms), entry.handle);
      continue;
    }
    // Only the reactor moves a connection out of kIdle, so this cannot race a worker.
    c->phase.store(Connection::Phase::kClosing, std::memory_order_relaxed);
    context_.log.log(LogLevel::kDebug, "closing fd {}: timeout", c->fd());
    c->prepare_close();
    close(*c);
  }
}

void Reactor::handle_signals(std::int64_t now_ms) {
  while (const int sig = read_signal(signal_fd_.get())) {
    if (sig == SIGINT || sig == SIGTERM) {
      if (!stopping_) {
        context_.log.log(LogLevel::kInfo, "{}: shutting down (grace period {} ms)",
                         sig == SIGINT ? "SIGINT" : "SIGTERM", options_.shutdown_grace_ms);
        begin_shutdown(now_ms);
      }
    } else if (sig == SIGHUP) {
      // A bad new configuration is logged and the running one stays.
      std::string error;
      if (options_.reload && options_.reload(error)) {
        std::shared_ptr<const Settings> previous = std::move(settings_);
        settings_ = context_.settings();
        watch_file_cache(previous.get());
        context_.log.log(LogLevel::kInfo, "SIGHUP: configuration reloaded");
      } else {
        context_.log.log(LogLevel::kError, "SIGHUP: configuration not reloaded: {}",
                         error.empty() ? "no configuration source" : error);
      }
    } else if (sig == SIGUSR1) {
      std::string error;
      if (context_.log.reopen(error)) {
        context_.log.log(LogLevel::kInfo, "SIGUSR1: log files reopened");
      } else {
        context_.log.log(LogLevel::kError, "SIGUSR1: {}", error);
      }
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
  for (int fd = 0; fd <= highest_fd_; ++fd) {
    Connection* c = table_[static_cast<std::size_t>(fd)].get();
    if (c == nullptr || c->phase.load(std::memory_order_acquire) != Connection::Phase::kIdle) {
      continue;
    }
    if (!c->between_requests()) continue;
    c->phase.store(Connection::Phase::kClosing, std::memory_order_relaxed);
    c->prepare_close();
    close(*c);
  }
}

}  // namespace cork
