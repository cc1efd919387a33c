// deny_openat2 ERRNO PROGRAM ARGS...: runs PROGRAM with a seccomp filter that fails every
// openat2 with ERRNO ("EPERM" or "ENOSYS"), as the default profiles of older container runtimes
// do. A test helper only: it must not filter anything else.
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string_view>

#if defined(__x86_64__)
constexpr unsigned kArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr unsigned kArch = AUDIT_ARCH_AARCH64;
#else
#error "deny_openat2: add this architecture's AUDIT_ARCH"
#endif

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: deny_openat2 EPERM|ENOSYS PROGRAM ARGS...\n");
    return 2;
  }
  const std::string_view name = argv[1];
  unsigned err;
  if (name == "EPERM") {
    err = EPERM;
  } else if (name == "ENOSYS") {
    err = ENOSYS;
  } else {
    std::fprintf(stderr, "deny_openat2: unknown errno %s\n", argv[1]);
    return 2;
  }
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kArch, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),  // another ABI: not what we test
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (err & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog program{};
  program.len = sizeof filter / sizeof filter[0];
  program.filter = filter;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
      prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) {
    std::fprintf(stderr, "deny_openat2: seccomp: %s\n", std::strerror(errno));
    return 2;
  }
  execv(argv[2], argv + 2);
  std::fprintf(stderr, "deny_openat2: %s: %s\n", argv[2], std::strerror(errno));
  return 127;
}
